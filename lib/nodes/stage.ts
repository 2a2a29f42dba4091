import type { OperatorFunction } from 'rxjs';
import { errorMessage } from '../errors';
import { withPayload, type Event } from '../event';
import { workerPool } from '../operators/pool';
import { ignoresEvent } from '../util/arity';
import { isThenable } from '../util/values';
import { opt } from './options';
import type { NodeContext } from './types';

/** A user function a node calls per event: sync or returning a promise. */
export type NodeFn<A, R> = (arg: A, event: Event) => R | PromiseLike<R>;

/**
 * The shared body of every function node: calls `fn` for each non-error event (error events
 * pass through untouched) on a worker pool of `concurrency`; a throw or rejection becomes an
 * error event naming the node; `onResult` turns a result into output events.
 *
 * @example
 * ```ts
 * create: (ctx) => functionStage(ctx, fn, concurrency, payloadOf, (e, r, emit) => emit(withPayload(e, r))),
 * ```
 */
export function functionStage<A, R>(
  ctx: NodeContext,
  fn: NodeFn<A, R>,
  concurrency: number,
  arg: (event: Event) => A,
  onResult: (event: Event, result: R, emit: (e: Event) => void) => void,
): OperatorFunction<Event, Event> {
  const finish = (event: Event, result: R, emit: (e: Event) => void) => {
    try {
      onResult(event, result, emit);
    } catch (err) {
      emit(ctx.fail(event, err));
    }
  };
  // Asynchronous calls under way (a synchronous call ends before anyone can look): with the
  // node's in-flight count, what is queued in front of the workers.
  let running = 0;
  ctx.probe.gauge('running', 'asynchronous calls of the node function under way', () => running);
  return workerPool<Event, Event>(
    concurrency,
    (event, emit) => {
      if (event.error) {
        emit(event);
        return;
      }
      let result: R | PromiseLike<R>;
      const timed = ctx.probe.sample();
      try {
        result = fn(arg(event), event);
      } catch (err) {
        timed?.();
        emit(ctx.fail(event, err));
        return;
      }
      if (isThenable(result)) {
        running++;
        return result.then(
          (r) => {
            running--;
            timed?.();
            finish(event, r, emit);
          },
          (err: unknown) => {
            running--;
            timed?.();
            emit(ctx.fail(event, err));
          },
        );
      }
      timed?.();
      finish(event, result, emit);
    },
    ctx.stats,
    (event) => ctx.nack(event, CUT_OFF),
  );
}

/**
 * The per-event body of a node that handles one event at a time and passes on at most one:
 * what the network's compiler fuses. A run of consecutive fusable nodes (each with
 * `concurrency` 1, one producer and one consumer between them) becomes one subscriber that
 * walks the steps per event in a loop; unfused, each step runs on its own worker pool. Both
 * paths call exactly these methods, so counters, acks, error events and probes are the same.
 *
 * @example
 * ```ts
 * const op = stepStage(ctx, {
 *   role: 'pipe', ctx, running: { n: 0 },
 *   call: (e) => fn(e.payload, e),
 *   then: (e, r) => withPayload(e, r),
 *   failed: (e, err) => ctx.fail(e, err),
 *   onError: (e) => e,
 *   discard: (e) => ctx.nack(e, CUT_OFF),
 * }, 1);
 * ```
 */
export interface FusableStep {
  /** 'pipe' passes on 0 or 1 event per event; 'sink' ends every event; 'pass' forwards every event unchanged without calling anything. */
  readonly role: 'pipe' | 'sink' | 'pass';
  readonly ctx: NodeContext;
  /** Asynchronous calls under way (the node's `running` gauge reads it). */
  readonly running: { n: number };
  /** Calls the node's function for a non-error event: a result, or a promise of one. May throw. */
  call(event: Event): unknown;
  /** What a successful call passes on (undefined: nothing, e.g. dropped or acked). May throw. */
  then(event: Event, result: unknown): Event | undefined;
  /** What a failed call (or `then`) passes on: an error event for a pipe, nothing for a sink. */
  failed(event: Event, err: unknown): Event | undefined;
  /** What an arriving error event becomes: passed on by a pipe, rejected (nacked) by a sink. */
  onError(event: Event): Event | undefined;
  /** An event queued or running when the network is cut off: give it back. */
  discard(event: Event): void;
  /**
   * Optional fast path for the fused loop, which must agree with `call` and `then`: `call(e)`
   * is `fn(payloadArg ? e.payload : e, e)`, and `then` is the built-in one of `shape` (see
   * {@link mapStep}, {@link whereStep}, {@link tapStep}, {@link sinkStep}).
   */
  readonly fn?: (arg: any, event: Event) => unknown;
  readonly payloadArg?: boolean;
  readonly shape?: 'map' | 'where' | 'tap' | 'sink';
  /**
   * True when `fn` (called with the payload) is known never to read its second argument, the
   * event (see {@link ignoresEvent}): the fused loop may then run it on a source's bare
   * payload and make the event only where a later step needs one.
   */
  readonly payloadOnly?: boolean;
}

const FUSABLE = Symbol.for('tributary.fusable');

/**
 * The fusable step behind an operator made by {@link stepStage} with concurrency 1 (or a
 * forwarder), or undefined.
 *
 * @example
 * ```ts
 * const step = fusableStep(spec.create(ctx));
 * if (step) steps.push(step);
 * ```
 */
export function fusableStep(op: unknown): FusableStep | undefined {
  return typeof op === 'function' ? ((op as unknown as Record<symbol, FusableStep | undefined>)[FUSABLE] ?? undefined) : undefined;
}

/**
 * Marks an operator as equivalent to running `step` per event in order (what the compiler may
 * fuse instead of calling the operator).
 *
 * @example
 * ```ts
 * return markFusable((source) => source, passStep(ctx));
 * ```
 */
export function markFusable<F extends (...args: any[]) => unknown>(op: F, step: FusableStep): F {
  (op as unknown as Record<symbol, FusableStep>)[FUSABLE] = step;
  return op;
}

/**
 * Runs `step` on a worker pool of `concurrency`, counting a pipe's output into its stats.
 * With concurrency 1 the operator is marked fusable.
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, pipeStep(ctx, fn, payloadOf, (e, r) => withPayload(e, r)), concurrency),
 * ```
 */
export function stepStage(ctx: NodeContext, step: FusableStep, concurrency: number): OperatorFunction<Event, Event> {
  ctx.probe.gauge('running', 'asynchronous calls of the node function under way', () => step.running.n);
  const running = step.running;
  const work = (event: Event, emit: (e: Event) => void): void | PromiseLike<unknown> => {
    if (event.error !== undefined) {
      const out = step.onError(event);
      if (out !== undefined) emit(out);
      return;
    }
    const timed = ctx.probe.sample();
    let result: unknown;
    try {
      result = step.call(event);
    } catch (err) {
      timed?.();
      const out = step.failed(event, err);
      if (out !== undefined) emit(out);
      return;
    }
    if (isThenable(result)) {
      running.n++;
      return result.then(
        (r) => {
          running.n--;
          timed?.();
          settle(step, event, r, emit);
        },
        (err: unknown) => {
          running.n--;
          timed?.();
          const out = step.failed(event, err);
          if (out !== undefined) emit(out);
        },
      );
    }
    timed?.();
    settle(step, event, result, emit);
  };
  const op = workerPool<Event, Event>(concurrency, work, step.role === 'sink' ? undefined : ctx.stats, (e) => step.discard(e));
  return concurrency === 1 ? markFusable(op, step) : op;
}

function settle(step: FusableStep, event: Event, result: unknown, emit: (e: Event) => void): void {
  let out: Event | undefined;
  try {
    out = step.then(event, result);
  } catch (err) {
    out = step.failed(event, err);
  }
  if (out !== undefined) emit(out);
}

/**
 * The step of a pipeline function node passing on at most one event: calls `fn(arg(event),
 * event)` for each non-error event (error events pass through untouched); `then` turns the
 * result into the event to pass on (or undefined after dropping it); a throw or rejection
 * becomes an error event naming the node.
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, pipeStep(ctx, fn, payloadOf, (e, r) => withPayload(e, r)), concurrency),
 * ```
 */
export function pipeStep<A, R>(
  ctx: NodeContext,
  fn: NodeFn<A, R>,
  arg: (event: Event) => A,
  then: (event: Event, result: R) => Event | undefined,
): FusableStep {
  return {
    role: 'pipe',
    ctx,
    running: { n: 0 },
    call: arg === payloadOf ? (e) => fn(e.payload as A, e) : (e) => fn(arg(e), e),
    then: then as (event: Event, result: unknown) => Event | undefined,
    failed: (e, err) => ctx.fail(e, err),
    onError: (e) => e,
    discard: (e) => ctx.nack(e, CUT_OFF),
  };
}

/**
 * The step of a `map` node: passes on `withPayload(e, fn(payload, e))`.
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, mapStep(ctx, (n: number) => n * 2), concurrency),
 * ```
 */
export function mapStep(ctx: NodeContext, fn: NodeFn<any, unknown>): FusableStep {
  return {
    ...pipeStep(ctx, fn, payloadOf, (e, r) => withPayload(e, r)),
    fn,
    payloadArg: true,
    shape: 'map',
    payloadOnly: ignoresEvent(fn),
  };
}

/**
 * The step of a `where` node: passes the event on when `fn(payload, e)` is truthy, else drops (and acks) it.
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, whereStep(ctx, (n: number) => n > 0), concurrency),
 * ```
 */
export function whereStep(ctx: NodeContext, fn: NodeFn<any, unknown>): FusableStep {
  const then = (e: Event, keep: unknown): Event | undefined => {
    if (keep) return e;
    ctx.drop(e);
    return undefined;
  };
  return { ...pipeStep(ctx, fn, payloadOf, then), fn, payloadArg: true, shape: 'where', payloadOnly: ignoresEvent(fn) };
}

/**
 * The step of a `tap` node: calls `fn(payload, e)` and passes the event on unchanged.
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, tapStep(ctx, (p) => console.log(p)), concurrency),
 * ```
 */
export function tapStep(ctx: NodeContext, fn: NodeFn<any, unknown>): FusableStep {
  return { ...pipeStep(ctx, fn, payloadOf, (e) => e), fn, payloadArg: true, shape: 'tap', payloadOnly: ignoresEvent(fn) };
}

/**
 * The step of a node passing every event on unchanged (a forwarder).
 *
 * @example
 * ```ts
 * create: (ctx) => markFusable((source) => source, passStep(ctx)),
 * ```
 */
export function passStep(ctx: NodeContext): FusableStep {
  return {
    role: 'pass',
    ctx,
    running: { n: 0 },
    call: () => undefined,
    then: (e) => e,
    failed: (e, err) => ctx.fail(e, err),
    onError: (e) => e,
    discard: () => undefined,
  };
}

/**
 * The step of a sink: calls `fn` per event, acks after it succeeded, nacks (and counts and
 * logs) when it failed; error events are nacked and reported (see {@link rejectErrorEvent}).
 *
 * @example
 * ```ts
 * create: (ctx) => stepStage(ctx, sinkStep(ctx, write, payloadOf), 1),
 * ```
 */
export function sinkStep<A>(ctx: NodeContext, fn: NodeFn<A, unknown>, arg: (event: Event) => A): FusableStep {
  return {
    role: 'sink',
    ctx,
    running: { n: 0 },
    call: arg === payloadOf ? (e) => fn(e.payload as A, e) : (e) => fn(arg(e), e),
    then: (e) => {
      ctx.probe.finished();
      ctx.ack(e);
      return undefined;
    },
    failed: (e, err) => {
      ctx.probe.finished();
      // Already given back (the network was cut off while this call ran): nothing more to report.
      if (e.delivery?.settled) return undefined;
      ctx.stats.errors++;
      ctx.nack(e, err);
      ctx.probe.error(errorMessage(err));
      ctx.logger.error(`node '${ctx.name}': ${errorMessage(err)} (event ${e.meta.id})`);
      return undefined;
    },
    onError: (e) => {
      ctx.probe.finished();
      rejectErrorEvent(ctx, e);
      return undefined;
    },
    discard: (e) => {
      ctx.probe.finished();
      ctx.nack(e, CUT_OFF);
    },
    fn: arg === payloadOf || arg === eventOf ? (fn as (arg: any, event: Event) => unknown) : undefined,
    payloadArg: arg === payloadOf,
    shape: arg === payloadOf || arg === eventOf ? 'sink' : undefined,
    payloadOnly: arg === payloadOf && ignoresEvent(fn),
  };
}

/**
 * The shared body of every sink: runs `fn` per event on a worker pool, acks after it
 * succeeded, nacks (and counts and logs) when it failed. Error events arriving at a sink are
 * nacked and logged: they are never dropped silently. With concurrency 1 the network may fuse
 * it with the nodes before it (see {@link FusableStep}).
 *
 * @example
 * ```ts
 * create: (ctx) => sinkStage(ctx, (bet) => db.insert(bet), 4, payloadOf),
 * ```
 */
export function sinkStage<A>(
  ctx: NodeContext,
  fn: NodeFn<A, unknown>,
  concurrency: number,
  arg: (event: Event) => A,
): OperatorFunction<Event, never> {
  return stepStage(ctx, sinkStep(ctx, fn, arg), concurrency) as OperatorFunction<Event, never>;
}

/**
 * Why an event still queued when a network is cut off is nacked.
 *
 * @example
 * ```ts
 * finalize: () => { for (const e of held.splice(0)) ctx.nack(e, CUT_OFF); },
 * ```
 */
export const CUT_OFF = new Error('the network was cut off before this event was processed');

/** How often a node reports error events it gave back, after the first one. */
export const ERROR_REPORT_INTERVAL_MS = 10_000;

interface ErrorReports {
  /** Scheduler time of the last line written. */
  last: number;
  /** Error events given back since then without a line of their own. */
  quiet: number;
}

const reports = new WeakMap<NodeContext, ErrorReports>();

/**
 * What any node that is not an error route does with an error event: nack it (its source
 * redelivers or answers with a failure; it is never acked as done) and say so — the first
 * one at once, then at most one line per {@link ERROR_REPORT_INTERVAL_MS} per node counting
 * the ones in between, so a failing database cannot flood the log. The node's `nacked`
 * counter counts every one.
 *
 * @example
 * ```ts
 * if (event.error) return rejectErrorEvent(ctx, event);
 * ```
 */
export function rejectErrorEvent(ctx: NodeContext, event: Event): void {
  ctx.nack(event, event.error?.cause ?? event.error?.message);
  const now = ctx.scheduler.now();
  const seen = reports.get(ctx);
  if (seen && now - seen.last < ERROR_REPORT_INTERVAL_MS) {
    seen.quiet++;
    return;
  }
  const more = seen && seen.quiet > 0 ? ` (and ${seen.quiet} more error events nacked since the last report)` : '';
  reports.set(ctx, { last: now, quiet: 0 });
  ctx.logger.warn(`node '${ctx.name}': error event ${event.meta.id} from '${event.error?.node ?? '?'}': ${event.error?.message}${more}`);
}

/**
 * Common option: how many events a function node works on at once.
 *
 * @example
 * ```ts
 * options: { fn: opt.fn<NodeFn<any, unknown>>('payload => anything').require(), concurrency: concurrencyOption },
 * ```
 */
export const concurrencyOption = opt.integer('how many events the node works on at once (1 keeps order)', { min: 1 }).withDefault(1);

/**
 * The payload of an event, the argument most function nodes pass to user code.
 *
 * @example
 * ```ts
 * functionStage(ctx, fn, concurrency, payloadOf, (e, keep, emit) => (keep ? emit(e) : ctx.drop(e)));
 * ```
 */
export const payloadOf = (e: Event): unknown => e.payload;
/**
 * The whole event, for the event-level (Go-style) function nodes.
 *
 * @example
 * ```ts
 * sinkStage(ctx, (e: Event) => console.log(e.meta.id), 1, eventOf);
 * ```
 */
export const eventOf = (e: Event): Event => e;
