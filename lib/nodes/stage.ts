import type { OperatorFunction } from 'rxjs';
import { errorMessage } from '../errors';
import type { Event } from '../event';
import { workerPool } from '../operators/pool';
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
 * The shared body of every sink: runs `fn` per event on a worker pool, acks after it
 * succeeded, nacks (and counts and logs) when it failed. Error events arriving at a sink are
 * nacked and logged: they are never dropped silently.
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
  const failed = (event: Event, err: unknown) => {
    ctx.probe.finished();
    // Already given back (the network was cut off while this call ran): nothing more to report.
    if (event.delivery?.settled) return;
    ctx.stats.errors++;
    ctx.nack(event, err);
    ctx.probe.error(errorMessage(err));
    ctx.logger.error(`node '${ctx.name}': ${errorMessage(err)} (event ${event.meta.id})`);
  };
  let running = 0;
  ctx.probe.gauge('running', 'asynchronous calls of the node function under way', () => running);
  return workerPool<Event, never>(
    concurrency,
    (event) => {
      if (event.error) {
        ctx.probe.finished();
        rejectErrorEvent(ctx, event);
        return;
      }
      let result: unknown;
      const timed = ctx.probe.sample();
      try {
        result = fn(arg(event), event);
      } catch (err) {
        timed?.();
        failed(event, err);
        return;
      }
      if (isThenable(result)) {
        running++;
        return result.then(
          () => {
            running--;
            timed?.();
            ctx.probe.finished();
            ctx.ack(event);
          },
          (err: unknown) => {
            running--;
            timed?.();
            failed(event, err);
          },
        );
      }
      timed?.();
      ctx.probe.finished();
      ctx.ack(event);
    },
    undefined,
    (event) => {
      ctx.probe.finished();
      ctx.nack(event, CUT_OFF);
    },
  );
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
