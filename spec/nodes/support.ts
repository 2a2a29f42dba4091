/**
 * Shared helpers for the node specs: a marble harness over the TestScheduler, contexts that
 * record logs and counters, delivery probes that count every settle call, and promise-based
 * runners for async function nodes (no sleeps: only resolved promises and microtasks).
 */
import { lastValueFrom, map, Observable, toArray, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  createDelivery,
  createEvent,
  createNodeContext,
  emptyStats,
  type Delivery,
  type Event,
  type Logger,
  type NodeContext,
  type NodeSpec,
  type NodeStats,
  type Settlement,
  withError,
} from 'tributary';

/** A TestScheduler that compares with Jest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A logger that keeps what it was told. */
export function recordingLogger(): Logger & { warnings: string[]; errors: string[] } {
  const rec = {
    warnings: [] as string[],
    errors: [] as string[],
    warn: (m: string) => void rec.warnings.push(m),
    error: (m: string) => void rec.errors.push(m),
  };
  return rec;
}

/** A node context whose logs and counters the test can read. */
export function probeContext(
  name: string,
  scheduler?: TestScheduler,
): NodeContext & { logger: ReturnType<typeof recordingLogger>; stats: NodeStats } {
  const logger = recordingLogger();
  const stats = emptyStats();
  return createNodeContext(name, { scheduler, logger, stats }) as NodeContext & {
    logger: ReturnType<typeof recordingLogger>;
    stats: NodeStats;
  };
}

/** Builds a pipeline node's operator with a probe context. */
export function pipelineOf(node: NodeSpec, ctx: NodeContext): OperatorFunction<Event, Event> {
  if (node.role !== 'pipeline') throw new Error(`expected a pipeline, got a ${node.role}`);
  return node.create(ctx);
}

/** Builds a sink node's operator with a probe context. */
export function sinkOf(node: NodeSpec, ctx: NodeContext): OperatorFunction<Event, unknown> {
  if (node.role !== 'sink') throw new Error(`expected a sink, got a ${node.role}`);
  return node.create(ctx);
}

/** Builds a source node's observable with a probe context. */
export function sourceOf(node: NodeSpec, ctx: NodeContext): Observable<Event> {
  if (node.role !== 'source') throw new Error(`expected a source, got a ${node.role}`);
  return node.create(ctx);
}

/** What a marble expectation compares: the payload, or `{ error, node }` for an error event. */
export type View = unknown;
export function view(e: Event): View {
  return e.error ? { error: e.error.message, node: e.error.node } : e.payload;
}
export const viewAll = map(view);

/** Marble values → events (payloads wrapped; values that are events kept). */
export function events(values: Record<string, unknown>): Record<string, Event> {
  const out: Record<string, Event> = {};
  for (const [k, v] of Object.entries(values)) out[k] = isEventLike(v) ? v : createEvent(v);
  return out;
}

function isEventLike(v: unknown): v is Event {
  return typeof v === 'object' && v !== null && 'meta' in v && 'payload' in v;
}

/** An error event as a source upstream would have made it. */
export function errorEvent(payload: unknown, message: string, node = 'upstream'): Event {
  return withError(createEvent(payload), message, node);
}

/**
 * A real `createDelivery` handle wrapped to record every ack/nack call made on it (not just
 * the first, which is all the handle itself acts on), so a node that settles twice or never
 * is caught; `settlements` is what the source would have been told.
 */
export interface Probe extends Delivery {
  readonly calls: ('ack' | 'nack')[];
  readonly reasons: unknown[];
  readonly settlements: Settlement[];
}
export function probe(): Probe {
  const calls: ('ack' | 'nack')[] = [];
  const reasons: unknown[] = [];
  const settlements: Settlement[] = [];
  const inner = createDelivery((s) => settlements.push(s));
  return {
    calls,
    reasons,
    settlements,
    get settled() {
      return inner.settled;
    },
    ack() {
      calls.push('ack');
      inner.ack();
    },
    nack(reason?: unknown) {
      calls.push('nack');
      reasons.push(reason);
      inner.nack(reason);
    },
  };
}

/** An event carrying a fresh probe. */
export function tracked<P>(payload: P): { event: Event<P>; delivery: Probe } {
  const delivery = probe();
  return { event: createEvent(payload, { delivery }), delivery };
}

/** Runs events through an operator and collects the output (for async work: real promises). */
export function runAll<R>(input: Iterable<Event>, op: OperatorFunction<Event, R>): Promise<R[]> {
  return lastValueFrom(
    new Observable<Event>((s) => {
      for (const e of input) s.next(e);
      s.complete();
    }).pipe(op, toArray()),
  );
}

/** Waits `n` microtask turns: an async function that is "slow" without any clock. */
export async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await null;
}

/**
 * An async function that records how many calls run at once. Each call takes `cost(x)`
 * microtask turns, so calls finish out of order when the costs differ.
 */
export function gauge<A, R>(fn: (x: A) => R, cost: (x: A) => number = () => 3) {
  const g = {
    running: 0,
    max: 0,
    calls: 0,
    fn: async (x: A): Promise<R> => {
      g.calls++;
      g.running++;
      g.max = Math.max(g.max, g.running);
      try {
        await ticks(cost(x));
        return fn(x);
      } finally {
        g.running--;
      }
    },
  };
  return g;
}

/** What `TestScheduler.run` hands its callback (cold, hot, expectObservable …). */
export type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

/**
 * Runs a marble test against a pipeline node built with a probe context on the test
 * scheduler; returns the context so counters can be checked after the run has flushed.
 */
export function marblePipeline(
  node: NodeSpec,
  body: (h: Helpers, op: OperatorFunction<Event, Event>, ctx: ReturnType<typeof probeContext>) => void,
  name = node.kind,
): ReturnType<typeof probeContext> {
  const t = testScheduler();
  const ctx = probeContext(name, t);
  t.run((h) => body(h, pipelineOf(node, ctx), ctx));
  return ctx;
}
