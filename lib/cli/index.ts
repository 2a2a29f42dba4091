export { main, createProgram } from './program';
export { EXIT, CliError, type CliIO } from './exit';
export { buildSession, loadHosts, type Session, type SessionOptions } from './session';
export type { HostContext, HostModule, WindowConfig } from './hosts';
export { runCommand, type RunOptions } from './commands/run';
export { graphCommand, GRAPH_FORMATS, type GraphFormat } from './commands/graph';
export { checkCommand } from './commands/check';
export { nodesCommand, nodeListing, type NodeListing } from './commands/nodes';
export { testCommand, findTestFiles, TEST_REPORTERS, type TestReporter, type TestOptions, type FileResult } from './commands/test';
export {
  createCliLogger,
  prettyLine,
  LOG_LEVELS,
  LOG_FORMATS,
  DEFAULT_LOG_LEVEL,
  REDACT_PATHS,
  type CliLoggerOptions,
  type LogLevel,
  type LogFormat,
  type LogStream,
} from './logging';
export {
  ProgressLine,
  StatusLine,
  sampleNetwork,
  progressText,
  CLEAR_LINE,
  PROGRESS_INTERVAL_MS,
  type ProgressOptions,
  type ProgressSample,
  type ProgressTarget,
  type TtyStream,
} from './progress';
