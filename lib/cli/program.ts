import { Command, CommanderError, Option } from 'commander';
import { errorMessage } from '../errors';
import { checkReplicas } from '../cluster/buckets';
import { checkCommand } from './commands/check';
import { entwineVerifyCommand } from './commands/entwine';
import type { DeployOptions } from './commands/deploy';
import { eventstoreServeCommand } from './commands/eventstore';
import { GRAPH_FORMATS, graphCommand, type GraphFormat } from './commands/graph';
import { nodesCommand } from './commands/nodes';
import { runCommand } from './commands/run';
import { schemaCommand } from './commands/schema';
import { queueCommand, serveCommand } from './commands/serve';
import { TEST_REPORTERS, testCommand, type TestReporter } from './commands/test';
import { tickerServeCommand } from './commands/ticker';
import { CliError, EXIT, type CliIO } from './exit';
import { DEFAULT_LOG_LEVEL, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logging';
import type { SessionOptions } from './session';
import { parseListen } from '../observe/listen';
import type { OpsServerOptions } from '../observe/server';

const EXIT_CODES_HELP = `
Exit codes:
  0  success (run: drained cleanly after SIGINT/SIGTERM, --for, or the sources ending)
  1  the network failed while running (it broke, or the drain timed out)
  2  usage or script error (bad arguments, a failing script — reported as file:line —,
     a host module that cannot be loaded, an unconnected graph, a bad --db)
  3  run: drained cleanly, but nodes produced error events (named on stderr and in --stats)
  (test: 0 all cases passed, 1 a case failed, 2 a broken test file or none found)`;

const GROUP_EXIT_CODES_HELP = `
Exit codes of deploy, undeploy, ps, agent:
  0  success (agent: left the group cleanly after SIGINT/SIGTERM or --for)
  1  NATS cannot be reached or refused the request
  2  usage error, a script that does not build (deploy: not stored), undeploy of an unknown name`;

const TEST_EXIT_CODES_HELP = `
Exit codes of test:
  0  every case passed
  1  a case failed (its diff is printed: the first differing frame, frame by frame)
  2  usage error, a test file that cannot be read or is malformed, or no test files found`;

/**
 * The group commands (agent, deploy, undeploy, ps), loaded when one runs: they bring the NATS
 * client and the connectors family, which a plain `tributary run` of a script without NATS nodes
 * must not load (spec/plugins/boundary.spec.ts).
 */
function cluster(): typeof import('./commands/agent') & typeof import('./commands/deploy') & typeof import('./commands/ps') {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    ...(require('./commands/agent') as typeof import('./commands/agent')),
    ...(require('./commands/deploy') as typeof import('./commands/deploy')),
    ...(require('./commands/ps') as typeof import('./commands/ps')),
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function packageVersion(): string {
  try {
    // The package's own name resolves to itself (package.json "exports" allows it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('tributary/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Options every script-reading command shares. */
function scriptOptions(cmd: Command): Command {
  return cmd
    .option('--require <module>', 'load a host module (JS, or TS via ts-node) exporting setup(host); repeatable', collect, [])
    .option('--plugin <module>', 'load a plugin (a path or an npm package exporting definePlugin(…)); repeatable', collect, [])
    .option('--no-sandbox', 'run trusted scripts without the sandbox (io, os, require of any module)')
    .option('--allow-files', 'let sandboxed scripts create nodes that read or write local files (file_source, file_sink)')
    .option('--allow-exec', "let nodes run local executables (agglo's spawn processes); off by default")
    .option('--script-timeout <duration>', 'stop a script still running after this long (an endless loop)', '30s')
    .option(
      '--agglo-input <node>',
      'where an agglo config\'s events come from: JSON {"kind": …, "options": {…}} of any source kind (default stdin_source)',
      aggloNode('--agglo-input'),
    )
    .option(
      '--agglo-output <node>',
      'where an agglo config\'s results go: JSON {"kind": …, "options": {…}} of a sink kind',
      aggloNode('--agglo-output'),
    )
    .option(
      '--db <url>',
      'window database: sqlite::memory: (default), sqlite:path, mysql://user:pass@host/db, postgres://user:pass@host/db',
    );
}

/** What commander parses for the options {@link scriptOptions} adds. */
interface ScriptFlags {
  require: string[];
  plugin: string[];
  sandbox: boolean;
  allowFiles?: boolean;
  allowExec?: boolean;
  scriptTimeout: string;
  db?: string;
  aggloInput?: AggloNodeChoice;
  aggloOutput?: AggloNodeChoice;
}

/** A node an agglo config's input or output is made of (`--agglo-input`, `--agglo-output`). */
interface AggloNodeChoice {
  kind: string;
  options?: Record<string, unknown>;
}

/** Parses `--agglo-input`/`--agglo-output`: JSON `{ kind, options? }`, or a bare kind name. */
function aggloNode(flag: string): (v: string) => AggloNodeChoice {
  return (v) => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) return { kind: v };
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      throw new CliError(EXIT.USAGE, `${flag}: not a kind name nor JSON {"kind": …, "options": {…}}: ${errorMessage(e)}`);
    }
    const o = parsed as { kind?: unknown; options?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.kind !== 'string') {
      throw new CliError(EXIT.USAGE, `${flag}: JSON must be an object with a string "kind" (and an optional "options" object)`);
    }
    if (o.options !== undefined && (typeof o.options !== 'object' || o.options === null || Array.isArray(o.options))) {
      throw new CliError(EXIT.USAGE, `${flag}: "options" must be an object`);
    }
    return { kind: o.kind, ...(o.options ? { options: o.options as Record<string, unknown> } : {}) };
  };
}

/** What commander parses for the options of `run`. */
interface RunFlags {
  drainTimeout: string;
  for?: string;
  stats?: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  quiet?: boolean;
  http?: string;
  stateStore?: string;
  checkpointInterval?: string;
  input?: string;
  inputNode?: string;
  maxInFlight?: number;
  watch?: boolean;
  group?: string;
  partitions?: number;
  leaseTimeout?: string;
  nats?: string;
  replicas?: number;
}

/** What commander parses for the options of `serve`. */
interface ServeFlags {
  port: number;
  host: string;
  path: string;
  maintenancePort?: number;
  inputNode?: string;
  maxConnections: number;
  maxInFlight: number;
  maxBodySize: number;
  replyTimeout: string;
  durableQueue?: string;
  workers: number;
  maxAttempts: number;
  retryDelay: string;
  highWater: number;
  lowWater?: number;
  synchronous: 'FULL' | 'NORMAL';
  drainTimeout: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

const SERVE_HELP = `
Answers (request/response): 200 {id, replies} (replies: what reply nodes got; {id, status:"accepted"}
  when the network has no reply node), 400 body not JSON, 413 body too large, 500 {id, error} a node
  failed on the event, 503 busy or stopping, 504 not settled within --reply-timeout.
Answers (--durable-queue): 202 {id} once committed (fsync), 429 + Retry-After over --high-water.
SIGTERM/SIGINT: stop accepting, finish in-flight work, exit 0. See docs/run-modes.md.`;

function portNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(EXIT.USAGE, `${flag} ${v}: not a port number`);
    return n;
  };
}

/**
 * Runs a serving command with a signal that SIGINT or SIGTERM aborts (the command then stops
 * cleanly); the handlers are removed once it returns.
 *
 * @example
 * ```ts
 * return untilStopSignal((signal) => tickerServeCommand({ ...opts, signal }, io));
 * ```
 */
async function untilStopSignal(serve: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await serve(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Help of `--replicas` on `run`, `deploy` and `agent`, for the buckets each creates. */
function replicasHelp(buckets: string): string {
  return `copies (1-5) of ${buckets} when created; more than 1 needs a NATS cluster of at least that many servers; an existing bucket must have n (default: 1 for a new bucket, an existing one as it is)`;
}

/** Parses `--replicas`: a whole number from 1 to 5, else a usage error naming the flag and the range. */
function replicasFlag(v: string): number {
  const n = Number(v);
  try {
    return checkReplicas(v.trim() !== '' && Number.isInteger(n) ? n : v, '--replicas');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(EXIT.USAGE, `${flag} ${v}: not a positive integer`);
    return n;
  };
}

/** The session options those flags stand for. */
function sessionOptions(opts: ScriptFlags): SessionOptions {
  return {
    requires: opts.require,
    plugins: opts.plugin,
    sandbox: opts.sandbox,
    allowFiles: opts.allowFiles,
    allowExec: opts.allowExec,
    scriptTimeout: opts.scriptTimeout,
    db: opts.db,
    ...(opts.aggloInput || opts.aggloOutput
      ? { agglo: { ...(opts.aggloInput ? { input: opts.aggloInput } : {}), ...(opts.aggloOutput ? { output: opts.aggloOutput } : {}) } }
      : {}),
  };
}

/**
 * The `tributary` command (commander): `run`, `graph`, `check`, `test`, `nodes`, `deploy`, `undeploy`, `ps`, `agent` …. `result.code` holds
 * the exit code once `parseAsync` resolved.
 *
 * @example
 * ```ts
 * const { program, result } = createProgram(process);
 * await program.parseAsync(process.argv);
 * process.exitCode = result.code;
 * ```
 */
export function createProgram(io: CliIO): { program: Command; result: { code: number } } {
  const result: { code: number } = { code: EXIT.OK };
  const program = new Command('tributary')
    .description('Reactive event stream processor: build networks from Lua scripts or YAML/JSON files and run them.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();
  const act =
    <A extends unknown[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      result.code = await fn(...args);
    };

  scriptOptions(
    program
      .command('run')
      .description('build the network from the scripts and run it until SIGINT/SIGTERM, --for, or its sources end; then drain')
      .argument('<script...>', 'Lua scripts or network files (.yaml, .yml, .json; agglo configs too), built in order onto one network'),
  )
    .option('--for <duration>', 'stop and drain after this long (Go syntax: 500ms, 3s, 1m30s)')
    .option('--drain-timeout <duration>', 'how long the drain may take before the network is cut off (exit 1)', '30s')
    .option('--stats', 'print the stop report (counters per node) as JSON on stderr')
    .addOption(
      new Option('--log-level <level>', 'least severe log lines written to stderr').choices([...LOG_LEVELS]).default(DEFAULT_LOG_LEVEL),
    )
    .addOption(
      new Option('--log-format <format>', 'log lines: auto = readable on a terminal, JSON otherwise')
        .choices([...LOG_FORMATS])
        .default('auto'),
    )
    .option('-q, --quiet', 'no progress line on the terminal')
    .option(
      '--http <[host:]port>',
      'serve the operations port while running: /metrics, /healthz, /readyz and the live page (host 127.0.0.1 unless given; bearer token from TRIBUTARY_HTTP_TOKEN)',
    )
    .option(
      '--state-store <url>',
      'checkpoint keyed state to this store and restore it at start: memory:, sqlite:./state.db, mysql://…, postgres://…, redis://… (docs/state.md)',
    )
    .option('--checkpoint-interval <duration>', 'how often keyed state is checkpointed (with --state-store; default 1s)')
    .option('--input <file>', "one-shot: feed this NDJSON file ('-' for standard input), one JSON event per line, then drain and exit")
    .option('--input-node <name>', 'the source --input replaces (default: the only stdin_source, else the only source)')
    .option('--max-in-flight <n>', 'with --input: most events unsettled at once', positiveInt('--max-in-flight'))
    .option(
      '--watch',
      'rebuild when the script file changes: a new version that builds replaces the old one (drained first); one that does not is reported (docs/deploy.md)',
    )
    .option(
      '--group <name>',
      'run in a scale-out group: listed by tributary ps; with --partitions, split across the group (docs/deploy.md)',
    )
    .option(
      '--partitions <n>',
      'with --group: split the network into n partitions; each instance runs its share (a keyed network reading JetStream: 16 by default)',
      positiveInt('--partitions'),
    )
    .option(
      '--lease-timeout <duration>',
      "with --group --partitions: how long a dead instance's partitions wait before they are taken over (default 10s)",
    )
    .option('--nats <url>', 'with --group: the NATS server (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)')
    .option('--replicas <n>', `with --group: ${replicasHelp("the group's NATS KV bucket")}`, replicasFlag)
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      act((scripts: string[], opts: ScriptFlags & RunFlags) =>
        runCommand(
          scripts,
          {
            ...sessionOptions(opts),
            drainTimeout: opts.drainTimeout,
            for: opts.for,
            stats: opts.stats,
            logLevel: opts.logLevel,
            logFormat: opts.logFormat,
            quiet: opts.quiet,
            ...(opts.input !== undefined ? { input: opts.input } : {}),
            ...(opts.inputNode !== undefined ? { inputNode: opts.inputNode } : {}),
            ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
            ...(opts.watch ? { watch: true } : {}),
            ...(opts.group !== undefined ? { group: opts.group } : {}),
            ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
            ...(opts.leaseTimeout !== undefined ? { leaseTimeout: opts.leaseTimeout } : {}),
            ...(opts.nats !== undefined ? { nats: opts.nats } : {}),
            ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
            ...httpOption(opts.http),
            ...(opts.stateStore !== undefined ? { stateStore: opts.stateStore } : {}),
            ...(opts.checkpointInterval !== undefined ? { checkpointInterval: opts.checkpointInterval } : {}),
          },
          io,
        ),
      ),
    );

  scriptOptions(
    program
      .command('serve')
      .description(
        'serve the network over HTTP: each POSTed JSON event runs through it (200 with the replies), or with --durable-queue is queued (202) and processed by workers',
      )
      .argument('<script...>', 'Lua scripts or network files (.yaml, .yml, .json; agglo configs too), built in order onto one network'),
  )
    .requiredOption('--port <port>', 'port of the request server (0 picks one)', portNumber('--port'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--path <path>', 'the POST path', '/binge')
    .option(
      '--maintenance-port <port>',
      'serve /healthz, /readyz, /stats, /metrics (and /queue/…) on this port',
      portNumber('--maintenance-port'),
    )
    .option('--input-node <name>', 'the source requests are fed into (default: the only stdin_source, else the only source)')
    .option('--max-connections <n>', 'most open connections', positiveInt('--max-connections'), 1024)
    .option('--max-in-flight <n>', 'request/response: requests processed at once (503 past it)', positiveInt('--max-in-flight'), 1000)
    .option('--max-body-size <bytes>', 'largest request body (413 past it)', positiveInt('--max-body-size'), 1_048_576)
    .option('--reply-timeout <duration>', 'request/response: how long a request waits for its event (504 past it)', '30s')
    .option('--durable-queue <file>', 'answer 202 once the request is committed to this SQLite queue; workers process it')
    .option('--workers <n>', 'durable: items processed at once', positiveInt('--workers'), 16)
    .option('--max-attempts <n>', 'durable: failures before an item is dead-lettered', positiveInt('--max-attempts'), 5)
    .option('--retry-delay <duration>', 'durable: wait before a failed item is retried', '1s')
    .option('--high-water <n>', 'durable: backlog at which requests get 429', positiveInt('--high-water'), 10_000)
    .option('--low-water <n>', 'durable: backlog below which requests are taken again (default high-water / 2)', positiveInt('--low-water'))
    .addOption(new Option('--synchronous <mode>', 'durable: SQLite synchronous setting').choices(['FULL', 'NORMAL']).default('FULL'))
    .option('--drain-timeout <duration>', 'how long the network drain may take at shutdown', '30s')
    .addOption(
      new Option('--log-level <level>', 'least severe log lines written to stderr').choices([...LOG_LEVELS]).default(DEFAULT_LOG_LEVEL),
    )
    .addOption(new Option('--log-format <format>', 'log lines').choices([...LOG_FORMATS]).default('auto'))
    .addHelpText('after', SERVE_HELP)
    .action(
      act((scripts: string[], opts: ScriptFlags & ServeFlags) =>
        serveCommand(
          scripts,
          {
            ...sessionOptions(opts),
            port: opts.port,
            host: opts.host,
            path: opts.path,
            drainTimeout: opts.drainTimeout,
            maxConnections: opts.maxConnections,
            maxInFlight: opts.maxInFlight,
            maxBodySize: opts.maxBodySize,
            replyTimeout: opts.replyTimeout,
            workers: opts.workers,
            maxAttempts: opts.maxAttempts,
            retryDelay: opts.retryDelay,
            highWater: opts.highWater,
            synchronous: opts.synchronous,
            logLevel: opts.logLevel,
            logFormat: opts.logFormat,
            ...(opts.maintenancePort !== undefined ? { maintenancePort: opts.maintenancePort } : {}),
            ...(opts.inputNode !== undefined ? { inputNode: opts.inputNode } : {}),
            ...(opts.durableQueue !== undefined ? { durableQueue: opts.durableQueue } : {}),
            ...(opts.lowWater !== undefined ? { lowWater: opts.lowWater } : {}),
          },
          io,
        ),
      ),
    );

  const queue = program.command('queue').description('durable queue tools (the file of serve --durable-queue)');
  queue
    .command('dead-letters')
    .description('list the items that failed --max-attempts times')
    .requiredOption('--durable-queue <file>', 'the queue file')
    .option('--json', 'print JSON')
    .action(
      act((opts: { durableQueue: string; json?: boolean }) =>
        queueCommand({ action: 'dead-letters', file: opts.durableQueue, json: opts.json }, io),
      ),
    );
  queue
    .command('list')
    .description('list pending or in-flight items with their ages')
    .requiredOption('--durable-queue <file>', 'the queue file')
    .addOption(new Option('--state <state>', 'which items').choices(['pending', 'in-flight', 'dead']).default('pending'))
    .option('--json', 'print JSON')
    .action(
      act((opts: { durableQueue: string; json?: boolean; state: string }) =>
        queueCommand({ action: 'list', file: opts.durableQueue, json: opts.json, which: opts.state }, io),
      ),
    );
  queue
    .command('requeue')
    .description('put dead-lettered items back in the queue (the daemon processes them again)')
    .argument('[ids...]', 'item ids (see dead-letters)')
    .requiredOption('--durable-queue <file>', 'the queue file')
    .option('--all', 'every dead-lettered item')
    .action(
      act((ids: string[], opts: { durableQueue: string; all?: boolean }) =>
        queueCommand({ action: 'requeue', file: opts.durableQueue, ids, all: opts.all }, io),
      ),
    );

  scriptOptions(
    program
      .command('deploy')
      .description("store a script in a group's NATS KV bucket as its next version; the group's agents run it (docs/deploy.md)")
      .argument('<file>', 'a Lua script, network file (.yaml, .yml, .json) or agglo config'),
  )
    .requiredOption('--group <name>', 'the group whose agents run it')
    .option('--name <name>', "the script's name (default the file name without extension)")
    .option('--partitions <n>', 'run it as n partitions across the group', positiveInt('--partitions'))
    .addOption(new Option('--format <format>', 'how the file is read (default by extension)').choices(['lua', 'yaml', 'json', 'agglo']))
    .option('--nats <url>', 'the NATS server (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)')
    .option('--replicas <n>', replicasHelp("the group's scripts bucket"), replicasFlag)
    .addHelpText('after', GROUP_EXIT_CODES_HELP)
    .action(
      act((file: string, opts: ScriptFlags & Pick<DeployOptions, 'group' | 'name' | 'partitions' | 'format' | 'nats' | 'replicas'>) =>
        cluster().deployCommand(
          file,
          {
            ...sessionOptions(opts),
            group: opts.group,
            ...(opts.name !== undefined ? { name: opts.name } : {}),
            ...(opts.partitions !== undefined ? { partitions: opts.partitions } : {}),
            ...(opts.format !== undefined ? { format: opts.format } : {}),
            ...(opts.nats !== undefined ? { nats: opts.nats } : {}),
            ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
          },
          io,
        ),
      ),
    );

  program
    .command('undeploy')
    .description('remove a script from a group; the agents running it drain it')
    .argument('<name>', "the script's name")
    .requiredOption('--group <name>', 'the group')
    .option('--nats <url>', 'the NATS server (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)')
    .addHelpText('after', GROUP_EXIT_CODES_HELP)
    .action(act((name: string, opts: { group: string; nats?: string }) => cluster().undeployCommand(name, opts, io)));

  program
    .command('ps')
    .description('list a group: members, scripts, units with owner, version, in/out/rate, failed builds')
    .requiredOption('--group <name>', 'the group')
    .option('--json', 'print JSON')
    .option('--nats <url>', 'the NATS server (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)')
    .addHelpText('after', GROUP_EXIT_CODES_HELP)
    .action(act((opts: { group: string; nats?: string; json?: boolean }) => cluster().psCommand(opts, io)));

  scriptOptions(
    program
      .command('agent')
      .description(
        'join a group and run its share of the scripts deployed to it until SIGINT/SIGTERM; then drain and leave (docs/deploy.md)',
      ),
  )
    .requiredOption('--group <name>', 'the group to join')
    .option(
      '--state-store <url>',
      'checkpoint keyed state of partitions to this shared store: redis://…, postgres://…, mysql://…, sqlite:… (docs/state.md)',
    )
    .option('--checkpoint-interval <duration>', 'how often keyed state is checkpointed (with --state-store; default 1s)')
    .option('--lease-timeout <duration>', "how long a dead member's units wait before they are taken over; the same on every member", '10s')
    .option('--member-id <id>', "this member's id (default <host>-<pid>-<random>)")
    .option('--nats <url>', 'the NATS server (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)')
    .option('--replicas <n>', replicasHelp("the group's NATS KV buckets (members, scripts)"), replicasFlag)
    .option('--drain-timeout <duration>', "how long a unit's drain may take", '30s')
    .option('--for <duration>', 'leave the group after this long')
    .addOption(
      new Option('--log-level <level>', 'least severe log lines written to stderr').choices([...LOG_LEVELS]).default(DEFAULT_LOG_LEVEL),
    )
    .addOption(new Option('--log-format <format>', 'log lines').choices([...LOG_FORMATS]).default('auto'))
    .addHelpText('after', GROUP_EXIT_CODES_HELP)
    .action(
      act(
        (
          opts: ScriptFlags & {
            group: string;
            stateStore?: string;
            checkpointInterval?: string;
            leaseTimeout: string;
            memberId?: string;
            nats?: string;
            replicas?: number;
            drainTimeout: string;
            for?: string;
            logLevel: LogLevel;
            logFormat: LogFormat;
          },
        ) =>
          cluster().agentCommand(
            {
              ...sessionOptions(opts),
              group: opts.group,
              leaseTimeout: opts.leaseTimeout,
              drainTimeout: opts.drainTimeout,
              logLevel: opts.logLevel,
              logFormat: opts.logFormat,
              ...(opts.stateStore !== undefined ? { stateStore: opts.stateStore } : {}),
              ...(opts.checkpointInterval !== undefined ? { checkpointInterval: opts.checkpointInterval } : {}),
              ...(opts.memberId !== undefined ? { memberId: opts.memberId } : {}),
              ...(opts.nats !== undefined ? { nats: opts.nats } : {}),
              ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
              ...(opts.for !== undefined ? { for: opts.for } : {}),
            },
            io,
          ),
      ),
    );

  scriptOptions(
    program
      .command('graph')
      .description('build the network from the scripts and print it without starting it')
      .argument('<script...>', 'Lua scripts or network files (.yaml, .yml, .json; agglo configs too), built in order onto one network'),
  )
    .addOption(new Option('--format <format>', 'output format').choices([...GRAPH_FORMATS]).default('dot'))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      act((scripts: string[], opts: ScriptFlags & { format: GraphFormat }) =>
        graphCommand(scripts, { ...sessionOptions(opts), format: opts.format }, io),
      ),
    );

  scriptOptions(
    program
      .command('check')
      .description('run the scripts against a network that is never started; report errors and unconnected nodes')
      .argument('<script...>', 'Lua scripts or network files (.yaml, .yml, .json; agglo configs too), built in order onto one network'),
  )
    .addHelpText('after', EXIT_CODES_HELP)
    .action(act((scripts: string[], opts: ScriptFlags) => checkCommand(scripts, sessionOptions(opts), io)));

  program
    .command('test')
    .description(
      'run marble tests of networks (*.test.lua, *.test.yaml, *.test.json) on virtual time; searches the working directory when no path is given',
    )
    .argument('[paths...]', 'test files, or directories to search for *.test.lua, *.test.yaml, *.test.json (node_modules skipped)')
    .addOption(new Option('--reporter <format>', 'output format').choices([...TEST_REPORTERS]).default('text'))
    .addHelpText('after', TEST_EXIT_CODES_HELP)
    .action(act((paths: string[], opts: { reporter: TestReporter }) => testCommand(paths, { reporter: opts.reporter }, io)));

  program
    .command('nodes')
    .description('list the node catalogue: kinds, options and Lua signatures')
    .option('--json', 'print JSON instead of text')
    .option('--require <module>', 'load a host module first, to list its kinds too; repeatable', collect, [])
    .option('--plugin <module>', 'load a plugin first, to list its kinds too; repeatable', collect, [])
    .addHelpText('after', EXIT_CODES_HELP)
    .action(
      act((opts: { json?: boolean; require: string[]; plugin: string[] }) =>
        nodesCommand({ json: opts.json, requires: opts.require, plugins: opts.plugin }, io),
      ),
    );

  program
    .command('eventstore')
    .description('event store (transactional outbox) tools')
    .command('serve')
    .description('serve an event store over HTTP: poll as JSON, push as Server-Sent Events (bearer token from TRIBUTARY_EVENTSTORE_TOKEN)')
    .requiredOption('--db <url>', 'the store database: sqlite:./outbox.db, mysql://…, postgres://…')
    .option('--prefix <prefix>', 'table name prefix', 'evt_')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .requiredOption('--port <port>', 'port to listen on', portNumber('--port'))
    .action(
      act((opts: { db: string; prefix: string; host: string; port: number }) =>
        untilStopSignal((signal) =>
          eventstoreServeCommand({ ...opts, token: process.env.TRIBUTARY_EVENTSTORE_TOKEN || undefined, signal }, io),
        ),
      ),
    );

  program
    .command('ticker')
    .description('entwine ticker (docs/entwine.md)')
    .command('serve')
    .description(
      'tick on an interval, accept anchor proofs from substreams, answer happened-before questions (HTTP; anchors need a bearer token when TRIBUTARY_TICKER_TOKEN is set)',
    )
    .requiredOption('--port <port>', 'port to listen on (0 picks one)', portNumber('--port'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--interval <duration>', 'time between ticks (Go syntax: 500ms, 1s)', '1s')
    .requiredOption('--store <dir|url>', 'where ticks and anchors are kept: a directory, or sqlite:…, postgres://…, redis://…')
    .action(
      act((opts: { port: number; host: string; interval: string; store: string }) =>
        untilStopSignal((signal) => tickerServeCommand({ ...opts, token: process.env.TRIBUTARY_TICKER_TOKEN || undefined, signal }, io)),
      ),
    );

  program
    .command('entwine')
    .description('entwine substream tools (docs/entwine.md)')
    .command('verify')
    .description('walk the substreams of a store and report the first broken link')
    .argument('<store>', 'the substream store: a directory, or sqlite:…, postgres://…, redis://…')
    .option('--substream <id>', 'only this substream (default: every one in the store)')
    .option('--public-key <pem>', 'public key file the signatures must verify with (default: the key recorded in the store)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExit codes: 0 intact, 1 a broken link (reported), 2 usage (no such store or substream, bad key file)')
    .action(
      act((store: string, opts: { substream?: string; publicKey?: string; json?: boolean }) => entwineVerifyCommand(store, opts, io)),
    );

  program
    .command('schema')
    .description('print the JSON Schema of declarative network files (.yaml, .json), generated from the node kinds')
    .option('--require <module>', 'load a host module first, to include its kinds; repeatable', collect, [])
    .option('--plugin <module>', 'load a plugin first, to include its kinds; repeatable', collect, [])
    .addHelpText('after', EXIT_CODES_HELP)
    .action(act((opts: { require: string[]; plugin: string[] }) => schemaCommand({ requires: opts.require, plugins: opts.plugin }, io)));

  return { program, result };
}

/**
 * Runs the command line and resolves to the exit code; errors are reported on `io.stderr`
 * as `tributary: message`, never thrown.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv);
 * ```
 */
export async function main(argv: string[] = process.argv, io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { program, result } = createProgram(io);
  if (argv.length <= 2) {
    program.outputHelp();
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end in a CommanderError too, with exit code 0.
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (e instanceof CliError) {
      io.stderr.write(`tributary: ${e.message}\n`);
      return e.exitCode;
    }
    io.stderr.write(`tributary: ${errorMessage(e)}\n`);
    return EXIT.RUNTIME;
  }
}

/** `--http` as the Network option: address, the token from the environment, the page titled by the script. */
function httpOption(flag: string | undefined): { http?: OpsServerOptions } {
  if (flag === undefined) return {};
  let address: { host: string; port: number };
  try {
    address = parseListen(flag);
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  const token = process.env.TRIBUTARY_HTTP_TOKEN;
  return { http: { ...address, ...(token ? { token } : {}) } };
}
