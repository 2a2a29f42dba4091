export { main, createProgram } from './program';
export { EXIT, CliError, type CliIO } from './exit';
export { buildSession, loadHosts, type Session, type SessionOptions } from './session';
export type { HostContext, HostModule, WindowConfig } from './hosts';
export { runCommand, type RunOptions } from './commands/run';
export { graphCommand, GRAPH_FORMATS, type GraphFormat } from './commands/graph';
export { checkCommand } from './commands/check';
export { nodesCommand, nodeListing, type NodeListing } from './commands/nodes';
export { testCommand, findTestFiles, TEST_REPORTERS, type TestReporter, type TestOptions, type FileResult } from './commands/test';
