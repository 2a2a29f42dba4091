import { deepStrictEqual } from 'node:assert';
import { isObservable, Observable, Subscription, tap, type Observable as Obs } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { TributaryError, errorMessage } from '../../errors';
import { Network, type NetworkOptions, type NetworkReport } from '../../network/network';
import { observable as observableNode } from '../../nodes/adapters';
import { countsOutput, markCountsOutput } from '../../operators/subscriber';
import type { Logger, NodeSpec, SinkNode, SourceNode } from '../../nodes/types';
import { VirtualClock, type Settles } from '../../testing/clock';
import { DeliveryProbe } from '../../testing/deliveries';
import { compareFrames, marks, type Mark } from '../../testing/frames';
import { recordedMarks, recorder, textRecorder } from '../../testing/index';
import { instructionClock } from '../../testing/lua';
import { suggest } from '../../util/suggest';
import { buildSession, type Session } from '../session';
import type { MarbleSpec, TestCase, TestFile } from './testfile';

/** One thing a case found wrong. */
export interface CaseFailure {
  /** What was checked: the build of the network, its run, a node's events, the output, stats, acks or nacks. */
  check: 'build' | 'run' | 'expect' | 'output' | 'stats' | 'acks' | 'nacks';
  /** The node concerned, if any. */
  node?: string;
  /** The first differing frame (virtual ms), for marble checks. */
  frame?: number;
  message: string;
}

/** How a case went. */
export interface CaseResult {
  name: string;
  ok: boolean;
  failures: CaseFailure[];
  /** What the network logged (warnings, error events at sinks), for a failure's context. */
  log: string[];
}

type Recorder = ReturnType<typeof recorder>;

/**
 * Runs one case of a test file: builds the network from the scripts (host modules, plugins)
 * on a fresh virtual clock with its named sources replaced by marble inputs, records the
 * nodes the case expects at, runs it for the case's virtual time on {@link VirtualClock}
 * (waiting for the window database between frames), drains it, and compares. Nothing reads
 * the wall clock: the Lua clock is virtual, `math.random` and host modules get the case's
 * seed, the endless-loop guards count instructions.
 *
 * @example
 * ```ts
 * const suite = loadTestFile('examples/scripted/network.test.lua');
 * const result = await runCase(suite, suite.cases[0]);
 * result.ok; // true
 * ```
 */
export async function runCase(suite: TestFile, tc: TestCase): Promise<CaseResult> {
  const scheduler = new TestScheduler((a, e) => deepStrictEqual(a, e));
  const output = textRecorder(scheduler);
  const log: string[] = [];
  // Event ids carry the process id: left out, so that the report is the same on every run.
  const ids = new RegExp(`\\b${process.pid.toString(36)}\\.[0-9a-z]+\\b`, 'g');
  const logger: Logger = {
    warn: (m) => void log.push(`warning: ${m.replace(ids, '<id>')}`),
    error: (m) => void log.push(`error: ${m.replace(ids, '<id>')}`),
  };
  const failures: CaseFailure[] = [];
  const probes = new Map<string, DeliveryProbe>();
  const recorders = new Map<string, Recorder>();

  const probe = (net: Network, name: string, spec: NodeSpec): NodeSpec => {
    const io = net.registry.has(spec.kind) ? net.registry.get(spec.kind).io : undefined;
    const input = Object.hasOwn(tc.inputs, name) ? tc.inputs[name] : undefined;
    if (input) {
      if (spec.role !== 'source') {
        throw new TributaryError('BAD_OPTION', `test input '${name}' can only replace a source, but this is a ${spec.role} (${spec.kind})`);
      }
      const deliveries = new DeliveryProbe(scheduler);
      probes.set(name, deliveries);
      spec = marbleSource(scheduler, input, deliveries);
    } else if (spec.role === 'source' && io) {
      throw new TributaryError(
        'BAD_OPTION',
        `source '${name}' (${spec.kind}) reaches outside the process (${io}); a test replaces it: inputs = { ${name} = "-a-b|" }`,
      );
    } else if (spec.role === 'sink' && io) {
      // A sink that would write to files or the network only records (and acks) under test.
      spec = standInSink(spec.kind);
    }
    if (Object.hasOwn(tc.expect, name)) {
      const rec = recorder(scheduler);
      recorders.set(name, rec);
      spec = recorded(spec, rec);
    }
    return spec;
  };

  const realWrite = process.stdout.write;
  let session: Session | undefined;
  let report: NetworkReport | undefined;
  // Printing nodes a host module made without an output write to process.stdout: that is the
  // case's output too, not the reporter's.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output.write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    try {
      session = await buildSession(suite.scripts, {
        requires: suite.requires,
        plugins: suite.plugins,
        sandbox: suite.sandbox,
        allowFiles: suite.allowFiles,
        virtual: {
          network: (options) => new ProbedNetwork({ ...options, scheduler, logger }, probe),
          runtime: { stdout: output, clock: () => scheduler.now(), randomSeed: tc.seed, budgetClock: instructionClock() },
          seed: tc.seed,
        },
      });
    } catch (e) {
      failures.push({ check: 'build', message: errorMessage(e) });
      return { name: tc.name, ok: false, failures, log };
    }
    const net = session.network;
    const nodes = Object.keys(net.edges());
    for (const name of [...Object.keys(tc.inputs), ...Object.keys(tc.expect), ...Object.keys(tc.acks), ...Object.keys(tc.nacks)]) {
      if (!net.exists(name))
        failures.push({ check: 'build', node: name, message: `the network has no node '${name}'${hint(name, nodes)}` });
    }
    for (const name of [...Object.keys(tc.acks), ...Object.keys(tc.nacks)]) {
      if (net.exists(name) && !probes.has(name))
        failures.push({ check: 'build', node: name, message: `acks and nacks are checked at inputs; '${name}' is not one` });
    }
    if (failures.length > 0) return { name: tc.name, ok: false, failures, log };
    // Loaded here, not at the top: the CLI loads window code only for commands that need it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- on demand, see above
    const { WINDOW_SERVICE } = require('../../windows/common') as typeof import('../../windows/common');
    const work: Settles = { idle: () => net.service<Settles>(WINDOW_SERVICE)?.idle() ?? Promise.resolve() };
    try {
      report = await new VirtualClock(scheduler, work).run(net, tc.run);
    } catch (e) {
      failures.push({ check: 'run', message: errorMessage(e) });
      return { name: tc.name, ok: false, failures, log };
    }
  } finally {
    process.stdout.write = realWrite;
    await session?.close();
  }

  if (report.failure) failures.push({ check: 'run', message: report.failure });
  if (report.timedOut) failures.push({ check: 'run', message: 'the drain timed out; events in flight were cut off' });
  for (const [node, expectation] of Object.entries(tc.expect)) {
    const rec = recorders.get(node)!;
    if ('payloads' in expectation) {
      const mismatch = compareFrames(indexed(expectation.payloads), indexed(rec.frames.map((f) => f.value)), 'event');
      if (mismatch) failures.push({ check: 'expect', node, message: `${node}: ${mismatch.message}` });
      continue;
    }
    const expected = marks(expectation.marbles.marbles, expectation.marbles.values);
    const mismatch = compareFrames(
      expected,
      recordedMarks(
        rec,
        expected.some((m) => m.kind === 'complete'),
      ),
    );
    if (mismatch) failures.push({ check: 'expect', node, frame: mismatch.frame, message: `${node}: ${mismatch.message}` });
  }
  for (const [check, specs] of [
    ['acks', tc.acks],
    ['nacks', tc.nacks],
  ] as const) {
    for (const [node, spec] of Object.entries(specs)) {
      const settled = probes.get(node)!.log.filter((s) => s.acked === (check === 'acks'));
      const actual: Mark[] = settled.map((s) => ({ frame: s.frame, kind: 'next', value: s.payload }));
      const mismatch = compareFrames(marks(spec.marbles, spec.values), actual);
      if (mismatch) failures.push({ check, node, frame: mismatch.frame, message: `${check} of ${node}: ${mismatch.message}` });
    }
  }
  if (tc.output !== undefined && tc.output !== output.text) failures.push({ check: 'output', message: outputDiff(tc.output, output.text) });
  for (const [node, counters] of Object.entries(tc.stats)) {
    const stats = report.stats[node];
    if (!stats) {
      failures.push({ check: 'stats', node, message: `stats: the network has no node '${node}'${hint(node, Object.keys(report.stats))}` });
      continue;
    }
    for (const [counter, want] of Object.entries(counters)) {
      const got = stats[counter as keyof typeof stats];
      if (got !== want) failures.push({ check: 'stats', node, message: `stats: ${node}.${counter} expected ${want}, actual ${got}` });
    }
  }
  return { name: tc.name, ok: failures.length === 0, failures, log };
}

/** The network `tributary test` builds: every node added passes the case's probe first. */
class ProbedNetwork extends Network {
  constructor(
    options: NetworkOptions,
    private readonly probeNode: (net: Network, name: string, spec: NodeSpec) => NodeSpec,
  ) {
    super(options);
  }

  override add(name: string, node: NodeSpec | Obs<unknown>): this {
    const spec = isObservable(node) ? observableNode(node) : node;
    return super.add(name, this.probeNode(this, name, spec));
  }
}

/** A source emitting the marble input, each event with a delivery handle the probe watches. */
function marbleSource(scheduler: TestScheduler, input: MarbleSpec, deliveries: DeliveryProbe): SourceNode {
  const messages = marks(input.marbles, input.values);
  return {
    role: 'source',
    kind: 'marbles',
    create: () =>
      new Observable((subscriber) => {
        const timers = new Subscription();
        for (const m of messages) {
          timers.add(
            scheduler.schedule(() => {
              if (m.kind === 'next') subscriber.next(deliveries.event(m.value));
              else if (m.kind === 'error') subscriber.error(m.error);
              else subscriber.complete();
            }, m.frame),
          );
        }
        return timers;
      }),
  };
}

/** Wraps a node so what it emits (a sink: what reaches it) is recorded with its frame. */
function recorded(spec: NodeSpec, rec: Recorder): NodeSpec {
  const watch = tap({ next: (e: Parameters<Recorder['note']>[0]) => rec.note(e), complete: () => rec.done() });
  if (spec.role === 'source') return { ...spec, create: (ctx) => spec.create(ctx).pipe(watch) };
  if (spec.role === 'pipeline') {
    return {
      ...spec,
      create: (ctx) => {
        const op = spec.create(ctx);
        const wrapped: typeof op = (source) => op(source).pipe(watch);
        // An operator that counts its own output must stay marked, or the network counts it twice.
        return countsOutput(op) ? markCountsOutput(wrapped) : wrapped;
      },
    };
  }
  return {
    ...spec,
    create: (ctx) => {
      const handle = spec.create(ctx);
      return (source) => handle(source.pipe(watch));
    },
  };
}

/** A sink that settles every event (acks, nacks error events) and does nothing else. */
function standInSink(kind: string): SinkNode {
  return {
    role: 'sink',
    kind,
    create: (ctx) => (source) =>
      new Observable<never>((subscriber) =>
        source.subscribe({
          next: (e) => (e.error ? ctx.nack(e, e.error.cause) : ctx.ack(e)),
          error: (err) => subscriber.error(err),
          complete: () => subscriber.complete(),
        }),
      ),
  };
}

function indexed(values: unknown[]): Mark[] {
  return values.map((value, i) => ({ frame: i + 1, kind: 'next', value }));
}

function hint(name: string, known: string[]): string {
  const h = suggest(name, known);
  return ` (nodes: ${known.join(', ') || 'none'})${h ? ` — did you mean '${h}'?` : ''}`;
}

/** The first line where the printed output differs, with both versions of it. */
function outputDiff(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  let i = 0;
  while (i < e.length && i < a.length && e[i] === a[i]) i++;
  const show = (lines: string[]) => (i < lines.length ? JSON.stringify(lines[i]) : 'end of output');
  return `output: first difference at line ${i + 1}: expected ${show(e)}, actual ${show(a)} (expected ${expected.length} characters, actual ${actual.length})`;
}
