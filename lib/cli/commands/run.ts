import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseTimer } from '../../duration';
import { errorMessage } from '../../errors';
import type { Network, NetworkReport } from '../../network/network';
import { chooseInput, FeedNetwork, REPLIES_SERVICE, type ReplyCollector } from '../../serve/feed';
import { feedLines, type FeedCounts } from '../../serve/lines';
import { redact, urlSecrets } from '../../util/redact';
import type { KeyValueStore } from '../../state/types';
import { CliError, EXIT, type CliIO } from '../exit';
import { checkStateFlags, openStateFlag } from '../state-flags';
import { createCliLogger, type LogFormat, type LogLevel } from '../logging';
import { ProgressLine, StatusLine } from '../progress';
import { buildSession, type SessionOptions } from '../session';
import * as nodePath from 'node:path';
import { asyncScheduler } from 'rxjs';
import type { RunnerHandle, RunnerPreparedUnit } from '../../cluster/runner';
import type { DeployedScript } from '../../cluster/types';

/** Options of `tributary run`. */
export interface RunOptions extends SessionOptions {
  /** Stop after this long (Go syntax or ms); default: until a signal or the sources end. */
  for?: string;
  /** Print the stop report (counters per node) as JSON on stderr. */
  stats?: boolean;
  /** `--log-level`: default `warn` (a clean run prints nothing). */
  logLevel?: LogLevel;
  /** `--log-format`: default `auto` (readable on a terminal, JSON lines otherwise). */
  logFormat?: LogFormat;
  /** `--quiet`: no progress line, even on a terminal. */
  quiet?: boolean;
  /** `--state-store`: the URL of the store keyed state is checkpointed to (docs/state.md). */
  stateStore?: string;
  /** `--checkpoint-interval`: how often state is checkpointed; default 1 s. */
  checkpointInterval?: string;
  /**
   * `--input <file>` (`-` for standard input): one JSON event per line into the input node
   * (see `chooseInput`); the run ends once the input ended and the network drained.
   */
  input?: string;
  /** `--input-node <name>`: the source `--input` replaces. */
  inputNode?: string;
  /** `--max-in-flight`: events of `--input` unsettled at once; default 1000. */
  maxInFlight?: number;
  /** Read instead of `process.stdin` for `--input -` (tests). */
  stdin?: Readable;
  /**
   * `--watch`: run the one script and, each time its file changes, build the new version and
   * only if it builds drain the old one and start the new (same state namespace: keyed state
   * carries over). A version that does not build is reported; the old one keeps running.
   */
  watch?: boolean;
  /** Ends the run as SIGINT does (for programs and tests that run the command in process). */
  signal?: AbortSignal;
  /**
   * `--group`: run in a scale-out group (docs/deploy.md). With `partitions` this process is a
   * member running its share of the partitions; without, it runs the whole network (instances
   * share the durable consumer) and is only listed by `tributary ps`.
   */
  group?: string;
  /** `--partitions N`: with `--group`, split the network into N partitions across the group. */
  partitions?: number;
  /** `--lease-timeout`: with `--group --partitions`; default 10 s. */
  leaseTimeout?: string;
  /** `--nats`: the group's NATS; default `TRIBUTARY_NATS_URL` or `nats://127.0.0.1:4222`. */
  nats?: string;
  /** `--replicas N` (1 … 5): with `--group`, copies of the group's bucket when it is created; an existing one must have N. */
  replicas?: number;
}

/** Why `run` stopped the network. */
type Reason = 'signal' | 'duration' | 'finished';

/**
 * `tributary run <script.lua>…`: builds the network from the scripts, starts it, and on
 * SIGINT/SIGTERM, after `--for`, or when every source ended, drains it and resolves to the
 * exit code (0 after a clean drain, 1 if the network broke or the drain timed out). A second
 * signal during the drain exits at once with 130. The network logs through pino on stderr
 * (`--log-level`, `--log-format`); on a terminal a progress line shows while it runs
 * (not with `--quiet`).
 *
 * @example
 * ```ts
 * process.exitCode = await runCommand(['examples/scripted/network.lua'], { for: '3s' }, process);
 * ```
 */
export async function runCommand(scripts: string[], options: RunOptions, io: CliIO): Promise<number> {
  let duration: number | undefined;
  if (options.for !== undefined) {
    try {
      duration = parseTimer(options.for, '--for');
    } catch (e) {
      throw new CliError(EXIT.USAGE, errorMessage(e));
    }
  }
  // Log lines and the progress line share stderr: the status line steps aside for each line.
  const status = new StatusLine(io.stderr);
  // Declarative files add the values of their ${VAR} references as they are built.
  const secrets = [
    ...(options.db !== undefined ? urlSecrets(options.db) : []),
    ...(options.stateStore !== undefined ? urlSecrets(options.stateStore) : []),
  ];
  const logger = createCliLogger({
    level: options.logLevel,
    format: options.logFormat,
    stream: status.passThrough,
    secrets,
  });
  if (options.group === undefined) {
    for (const [flag, v] of [
      ['--partitions', options.partitions],
      ['--lease-timeout', options.leaseTimeout],
      ['--nats', options.nats],
      ['--replicas', options.replicas],
    ] as const) {
      if (v !== undefined) throw new CliError(EXIT.USAGE, `${flag} needs --group <name>`);
    }
  } else {
    const checkGroup: (group: string | undefined) => asserts group is string = groupModule().checkGroup;
    checkGroup(options.group);
    groupModule().checkReplicasFlag(options.replicas);
    if (options.input !== undefined) throw new CliError(EXIT.USAGE, '--group cannot be used with --input (a one-shot run)');
    // A keyed network read from JetStream is split into partitions even without --partitions.
    const keyed = options.partitions === undefined && scripts.length === 1 ? await keyedNode(scripts, options, logger) : undefined;
    if (keyed) {
      status.passThrough.write(
        `tributary: node '${keyed}' keeps keyed state: running the network as ${DEFAULT_PARTITIONS} partitions across group '${options.group}' (choose with --partitions)\n`,
      );
    }
    if (options.partitions !== undefined || keyed) {
      if (scripts.length !== 1) throw new CliError(EXIT.USAGE, `--group --partitions runs one script, got ${scripts.length}`);
      const { partitions = DEFAULT_PARTITIONS, group, ...rest } = options;
      return groupModule().runPartitioned(scripts[0], { ...rest, group, partitions }, io);
    }
    if (options.watch) throw new CliError(EXIT.USAGE, '--watch with --group needs --partitions (or use tributary deploy and agents)');
    if (options.leaseTimeout !== undefined)
      throw new CliError(EXIT.USAGE, '--lease-timeout needs --partitions (only partitions are leased)');
  }
  if (options.watch) {
    if (scripts.length !== 1) throw new CliError(EXIT.USAGE, `--watch runs one script, got ${scripts.length}`);
    if (options.input !== undefined) throw new CliError(EXIT.USAGE, '--watch cannot be used with --input (a one-shot run)');
  }
  checkStateFlags(options);
  const store = await openStateFlag(options.stateStore);
  try {
    const state = store
      ? { store, ...(options.checkpointInterval !== undefined ? { checkpointInterval: options.checkpointInterval } : {}) }
      : undefined;
    const context: RunContext = { options, io, logger, status, duration, state, secrets };
    if (options.watch) return await runWatching(scripts[0], context);
    return await runWith(scripts, context);
  } finally {
    await store?.close();
  }
}

/** What {@link runCommand} settles once before it runs the network, plainly or with `--watch`. */
interface RunContext {
  readonly options: RunOptions;
  readonly io: CliIO;
  readonly logger: ReturnType<typeof createCliLogger>;
  /** The progress line; log lines and messages go through its `passThrough`. */
  readonly status: StatusLine;
  /** `--for` in ms; undefined: until a signal (or the sources end). */
  readonly duration: number | undefined;
  /** The opened `--state-store` with `--checkpoint-interval`; undefined without `--state-store`. */
  readonly state: { readonly store: KeyValueStore; readonly checkpointInterval?: string } | undefined;
  /** Values redacted from every message. */
  readonly secrets: string[];
}

async function runWith(scripts: string[], context: RunContext): Promise<number> {
  const { options, io, logger, status, duration, state, secrets } = context;
  const feeding = options.input !== undefined;
  const session = await buildSession(scripts, {
    ...options,
    logger,
    secrets,
    ...(state ? { state } : {}),
    ...(feeding ? { makeNetwork: (o: ConstructorParameters<typeof FeedNetwork>[0]) => new FeedNetwork(o) } : {}),
  });
  const { network } = session;
  // reply nodes print their payloads as NDJSON on the command's stdout.
  const printReplies: ReplyCollector = { add: (_id, payload) => (io.stdout.write(JSON.stringify(payload) + '\n'), true) };
  network.provide(REPLIES_SERVICE, printReplies);
  let counts: FeedCounts | undefined;
  let input: Readable | undefined;
  try {
    if (feeding) {
      try {
        (network as FeedNetwork).inputName = chooseInput(network as FeedNetwork, options.inputNode);
      } catch (e) {
        throw new CliError(EXIT.USAGE, errorMessage(e));
      }
      input = await openInput(options.input!, options.stdin);
    }
    // A script that builds nothing (the original's function-listing script) ran; that is all.
    if (Object.keys(network.edges()).length === 0) return EXIT.OK;
    logger.info(shape(network), 'network starting');
    const progress =
      !options.quiet && io.stderr.isTTY === true ? new ProgressLine({ network, line: status, scheduler: network.scheduler }) : undefined;
    // stdout on the same terminal (a tester's dots, a printer's lines) must not tear the status line.
    const unhook = progress && io.stdout.isTTY === true ? status.hook(io.stdout as { write: (...args: unknown[]) => boolean }) : undefined;
    let reason: Reason;
    let report: NetworkReport;
    let leave: (() => Promise<void>) | undefined;
    try {
      progress?.start();
      try {
        await network.start();
      } catch (e) {
        throw new CliError(EXIT.USAGE, redact(errorMessage(e), secrets));
      }
      if (options.group !== undefined) {
        // A group it cannot join (NATS down, a bucket with another replica count) ends the run:
        // the network started above is stopped, not left running.
        leave = await joinShared(network, scripts, options).catch(async (e: unknown) => {
          await network.stop();
          throw e;
        });
      }
      const ops = await network.opsServer();
      if (ops) status.passThrough.write(`tributary: operations port ${ops.url}/ (live page, /metrics, /healthz, /readyz)\n`);
      let finished: Promise<unknown> = network.done();
      if (feeding) {
        const net = network as FeedNetwork;
        const name = options.input === '-' ? 'stdin' : options.input!;
        const say = (m: string) => status.passThrough.write(`tributary: ${redact(m, secrets)}\n`);
        counts = { lines: 0, bad: 0, acked: 0, failed: 0 };
        const fed = feedLines(net.feed, input!, name, options.maxInFlight ?? 1000, say, counts, say).finally(() => net.feed.end());
        finished = Promise.race([finished, fed]);
      }
      reason = await waitForEnd(finished, duration, network.scheduler, options.signal);
      logger.info({ reason }, 'draining');
      progress?.markDraining();
      report = await network.stop();
    } finally {
      await leave?.();
      progress?.stop();
      unhook?.();
    }
    logger.info({ reason, timedOut: report.timedOut, ...totals(network, report) }, 'network stopped');
    const failedNodes = failed(report);
    const fedIn = counts ? { input: { ...counts, unsettled: counts.lines - counts.bad - counts.acked - counts.failed } } : {};
    if (options.stats)
      io.stderr.write(redact(JSON.stringify({ stoppedBy: reason, failedNodes, ...fedIn, ...report }, null, 2), secrets) + '\n');
    const code = verdict(report, failedNodes, io, secrets);
    if (code === EXIT.OK && fedIn.input && (fedIn.input.bad > 0 || fedIn.input.failed > 0 || fedIn.input.unsettled > 0)) {
      const i = fedIn.input;
      io.stderr.write(
        `tributary: input: ${i.lines} lines, ${i.acked} processed, ${i.bad} not JSON, ${i.failed} failed, ${i.unsettled} unsettled\n`,
      );
      return EXIT.EVENTS_FAILED;
    }
    return code;
  } finally {
    await session.close();
  }
}

/** The `--input` stream: standard input for `-`, else the file (a usage error if it cannot be opened). */
async function openInput(file: string, stdin: Readable | undefined): Promise<Readable> {
  if (file === '-') return stdin ?? process.stdin;
  const stream = createReadStream(file);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e) => reject(new CliError(EXIT.USAGE, `--input ${file}: ${errorMessage(e)}`)));
  });
  return stream;
}

/** How many nodes of each role the network has, for the 'network starting' line. */
function shape(network: Network): { nodes: number; sources: number; sinks: number } {
  const names = Object.keys(network.edges());
  const count = (role: string) => names.filter((n) => network.get(n)?.role === role).length;
  return { nodes: names.length, sources: count('source'), sinks: count('sink') };
}

/** Events into the network (from sources), out of it (into sinks) and error events. */
function totals(network: Network, report: NetworkReport): { in: number; out: number; errors: number } {
  const t = { in: 0, out: 0, errors: 0 };
  for (const [name, s] of Object.entries(report.stats)) {
    const role = network.get(name)?.role;
    if (role === 'source') t.in += s.out;
    if (role === 'sink') t.out += s.in;
    t.errors += s.errors;
  }
  return t;
}

/** Nodes that produced error events, with how many. */
function failed(report: NetworkReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, stats] of Object.entries(report.stats)) if (stats.errors > 0) out[name] = stats.errors;
  return out;
}

function verdict(report: NetworkReport, failedNodes: Record<string, number>, io: CliIO, secrets: readonly string[]): number {
  if (report.failure) {
    io.stderr.write(`tributary: ${redact(report.failure, secrets)}\n`);
    return EXIT.RUNTIME;
  }
  if (report.timedOut) {
    io.stderr.write('tributary: the drain timed out; events in flight were cut off\n');
    return EXIT.RUNTIME;
  }
  const names = Object.entries(failedNodes);
  if (names.length > 0) {
    const total = names.reduce((n, [, c]) => n + c, 0);
    io.stderr.write(
      `tributary: ${total} error event${total === 1 ? '' : 's'} (${names.map(([n, c]) => `node '${n}': ${c}`).join(', ')})\n`,
    );
    return EXIT.EVENTS_FAILED;
  }
  return EXIT.OK;
}

function waitForEnd(
  finished: Promise<unknown>,
  duration: number | undefined,
  scheduler: { schedule(work: () => void, delay?: number): { unsubscribe(): void } },
  abort?: AbortSignal,
): Promise<Reason> {
  return new Promise<Reason>((resolve) => {
    const timer = duration !== undefined ? scheduler.schedule(() => end('duration'), duration) : undefined;
    const onSignal = () => end('signal');
    if (abort?.aborted) return resolve('signal');
    abort?.addEventListener('abort', onSignal, { once: true });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    void finished.then(() => end('finished'));
    let ended = false;
    function end(reason: Reason) {
      if (ended) return;
      ended = true;
      timer?.unsubscribe();
      abort?.removeEventListener('abort', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      // A second signal while draining means "now".
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(reason);
    }
  });
}

/**
 * `run --watch`: the script runs as a unit of {@link unitFactory} fed by a watching
 * {@link fileCatalog}; each new version is built first and only if it builds is the old one
 * drained and the new one started. Ends on a signal or `--for`; a version whose sources ended
 * leaves the command waiting for the next edit.
 */
async function runWatching(file: string, context: RunContext): Promise<number> {
  const { options, io, logger, status, duration, state, secrets } = context;
  const say = (m: string) => status.passThrough.write(`tributary: ${redact(m, secrets)}\n`);
  const printReplies: ReplyCollector = { add: (_id, payload) => (io.stdout.write(JSON.stringify(payload) + '\n'), true) };
  const factory = watchModule().unitFactory({
    group: '',
    // The namespace of a plain `run`: state carries over between versions and from and to it.
    namespace: '',
    session: { ...options, logger, secrets },
    ...(state ? { state } : {}),
    onBuilt: (network) => network.provide(REPLIES_SERVICE, printReplies),
  });
  const catalog = watchModule().fileCatalog(file, { watch: true, onProblem: say });
  let current: RunnerHandle | undefined;
  let firstFailure: string | undefined;
  let ending = false;
  let chain: Promise<void> = Promise.resolve();
  const swap = async (script: DeployedScript): Promise<void> => {
    let prepared: RunnerPreparedUnit;
    try {
      prepared = await factory.prepare({ id: script.name, script }, { epoch: script.version });
    } catch (e) {
      const why = errorMessage(e).replace(/^script '[^']*' version \d+: /, '');
      if (!current && script.version === 1) firstFailure = why;
      else
        say(
          `${file}: version ${script.version} does not build${current ? `; version ${current.unit.script.version} keeps running` : ''}: ${why}`,
        );
      return;
    }
    if (ending) return prepared.discard();
    if (current) {
      const old = current;
      current = undefined;
      await old.stop();
      say(`${file}: version ${old.unit.script.version} drained (${old.stats().in} events in, ${old.stats().out} out)`);
    }
    try {
      current = await prepared.start();
    } catch (e) {
      say(`${file}: version ${script.version} failed to start: ${errorMessage(e)}`);
      return;
    }
    if (script.version > 1) say(`${file}: version ${script.version} running`);
    logger.info({ version: script.version }, 'network starting');
  };
  const off = catalog.subscribe(([script]) => {
    if (script) chain = chain.then(() => swap(script));
  });
  try {
    await chain;
    if (firstFailure !== undefined) throw new CliError(EXIT.USAGE, firstFailure);
    say(`${file}: version 1 running; watching the file for changes`);
    const reason = await waitForEnd(new Promise<never>(() => {}), duration, asyncScheduler, options.signal);
    logger.info({ reason }, 'draining');
    ending = true;
    off();
    await catalog.close();
    await chain;
    const last = current;
    if (!last) return EXIT.RUNTIME;
    await last.stop();
    const report = last.network.report();
    logger.info(
      { reason, version: last.unit.script.version, timedOut: report.timedOut, ...totals(last.network, report) },
      'network stopped',
    );
    if (options.stats)
      io.stderr.write(redact(JSON.stringify({ stoppedBy: reason, failedNodes: failed(report), ...report }, null, 2), secrets) + '\n');
    return verdict(report, failed(report), io, secrets);
  } finally {
    ending = true;
    off();
    await catalog.close();
    await chain.catch(() => undefined);
    await current?.stop();
  }
}

/**
 * `run --group` without `--partitions`: the network runs here in full, as on every instance of
 * the group (they share its durable consumers), and is shown in the group's bucket for
 * `tributary ps`. Resolves to what leaves the group again.
 */
async function joinShared(network: Network, scripts: string[], options: RunOptions): Promise<() => Promise<void>> {
  const nc = await groupModule().connectNats(options.nats, `run:${options.group!}`, { reconnect: true });
  const unit = scripts.length === 1 ? nodePath.basename(scripts[0]).replace(/\.[^.]*$/, '') : 'run';
  let last = { at: Date.now(), in: 0 };
  try {
    const leave = await groupModule().showInGroup(
      nc,
      options.group!,
      10_000,
      unit,
      () => {
        const t = totals(network, network.report());
        const at = Date.now();
        const rate = at > last.at ? ((t.in - last.in) * 1000) / (at - last.at) : 0;
        last = { at, in: t.in };
        return { ...t, rate: Math.max(0, Math.round(rate * 10) / 10), version: 1 };
      },
      options.replicas,
    );
    return async () => {
      await leave();
      await nc.close();
    };
  } catch (e) {
    await nc.close();
    throw new CliError(EXIT.RUNTIME, `--group ${options.group!}: ${errorMessage(e)}`);
  }
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded only by --group and --watch */
/** The group side of `run --group`: the NATS client comes with it, so it loads only when used. */
function groupModule(): typeof import('./deploy') & typeof import('./agent') {
  return { ...(require('./deploy') as typeof import('./deploy')), ...(require('./agent') as typeof import('./agent')) };
}

/** The runner and the file catalog of `run --watch`, loaded only when used. */
function watchModule(): typeof import('../../cluster/runner') & typeof import('../../cluster/catalog') {
  return {
    ...(require('../../cluster/runner') as typeof import('../../cluster/runner')),
    ...(require('../../cluster/catalog') as typeof import('../../cluster/catalog')),
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Partitions of a keyed network run with `--group` and no `--partitions`. */
export const DEFAULT_PARTITIONS = 16;

/**
 * Node kinds whose state is per key (SQL windows, event-time windows, `stateful`, agglo's
 * aggregate and complete): a network with one of them must be partitioned to run on several
 * processes, or each process would hold part of every key's state.
 */
const KEYED_KINDS = new Set([
  'window',
  'query_window',
  'time_window',
  'count_window',
  'aggregate_window',
  'filter',
  'tumbling_window',
  'hopping_window',
  'sliding_window',
  'session_window',
  'stateful',
  'aggregate',
  'complete',
]);

/**
 * For `run --group` without `--partitions`: the first node keeping keyed state, when the network
 * also reads a JetStream stream (which a partitioned run can split); undefined otherwise (the
 * network runs whole on every member, sharing its durable consumers). The script is built once
 * to look; a script that does not build is left to the run to report.
 */
async function keyedNode(scripts: string[], options: RunOptions, logger: ReturnType<typeof createCliLogger>): Promise<string | undefined> {
  let session: Awaited<ReturnType<typeof buildSession>> | undefined;
  try {
    session = await buildSession(scripts, { ...options, logger });
  } catch {
    return undefined;
  }
  try {
    const { network } = session;
    const nodes = Object.keys(network.edges()).map((n) => network.describe(n)!);
    const jetstream = nodes.some((n) => n.kind === 'nats_source' && typeof (n.options as { stream?: unknown }).stream === 'string');
    return jetstream ? nodes.find((n) => KEYED_KINDS.has(n.kind))?.name : undefined;
  } finally {
    await session.close();
  }
}
