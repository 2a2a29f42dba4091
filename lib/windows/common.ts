import type { Observable, Subscriber } from 'rxjs';
import type { Event } from '../event';
import { opt } from '../nodes/options';
import type { NodeContext } from '../nodes/types';
import { handle, operate } from '../operators/operate';
import type { TimeUnit } from './sql';
import type { WindowStore } from './store';
import type { BatchWriter } from './writer';

/** The key under which a network provides the window store to nodes (`net.provide`). */
export const WINDOW_SERVICE = 'tributary.windows';

/**
 * The window store a node's network provides; a missing one is an error naming the node.
 *
 * @example
 * ```ts
 * create: (ctx) => {
 *   const store = storeOf(ctx);
 *   const table = store.table('example_bets', `node '${ctx.name}'`);
 *   // …
 * }
 * ```
 */
export function storeOf(ctx: NodeContext): WindowStore {
  return ctx.service<WindowStore>(WINDOW_SERVICE);
}

/** What a window operator's body sees: a way to emit and to count work still running. */
export interface WindowBody {
  next(e: Event): void;
  /** Called once the input has completed; the output completes when no work is pending. */
  complete?(): void;
  /**
   * Called once, after the input has completed and no work is pending (the last inserts have
   * committed): the body may start a last piece of work (`begin`/`end`, e.g. a final query)
   * whose output is emitted before the output completes. Never called after an unsubscribe.
   */
  finish?(): void;
  teardown?(): void;
}

/** What {@link windowOperator} gives the body it makes. */
export interface WindowOutput {
  /** Emits an event, unless the output has closed. */
  emit: (e: Event) => void;
  /** Counts one more piece of work running. */
  begin: () => void;
  /** Counts one piece of work done; the output may complete. */
  end: () => void;
  subscriber: Subscriber<Event>;
}

/**
 * The shell of every window node: input events go to `body.next`; work the body starts is
 * counted with `begin()`/`end()`; the output completes once the input has completed and
 * nothing is pending, which is how `stop()` waits for pending inserts to commit. At that
 * point `body.finish` is called once and may begin more work (a final query), which is then
 * waited for too. An unsubscribe (the network cut off) calls neither.
 *
 * @example
 * ```ts
 * return windowOperator(({ emit, begin, end }) => ({
 *   next(e) {
 *     begin();
 *     serial.run(() => store.query('select 1')).then(() => emit(e)).finally(end);
 *   },
 * }));
 * ```
 */
export function windowOperator(make: (out: WindowOutput) => WindowBody): (source: Observable<Event>) => Observable<Event> {
  return operate<Event, Event>((subscriber, source) => {
    let pending = 0;
    let inputDone = false;
    let closed = false;
    let finished = false;
    const maybeComplete = () => {
      if (closed || !inputDone || pending !== 0) return;
      if (!finished) {
        finished = true;
        body.finish?.();
        if (pending !== 0) return; // the final work completes the output when it ends
      }
      closed = true;
      subscriber.complete();
    };
    const body = make({
      subscriber,
      emit: (e) => {
        if (!closed) subscriber.next(e);
      },
      begin: () => {
        pending++;
      },
      end: () => {
        pending--;
        maybeComplete();
      },
    });
    source.subscribe(
      handle(subscriber, {
        next: (e) => body.next(e),
        // Not `finalize`: the input completing must not stop work still pending.
        complete: () => {
          inputDone = true;
          body.complete?.();
          maybeComplete();
        },
      }),
    );
    return () => {
      closed = true;
      body.teardown?.();
    };
  });
}

/** The `timeUnit` option: Unix seconds or milliseconds (describe it per kind). */
export const timeUnitOption = opt.enum<TimeUnit>(['s', 'ms'], 'unit of timeColumn: Unix seconds or milliseconds').withDefault('s');

/** Options every inserting window shares: batching and extra query parameters. */
export const batchingOptions = {
  maxBatch: opt.integer('most events committed in one transaction', { min: 1 }).withDefault(1000),
  params: opt.object('more named parameters for the query'),
};

/**
 * The input side of the sliding windows: error events pass on; every other event is written
 * in the current batch and acked once its row is committed (a bad row becomes an error event
 * naming the node). Work is counted so the window completes only after the last commit.
 * `committed`, when given, is called for each row committed (before its event is acked).
 *
 * @example
 * ```ts
 * return windowOperator(({ emit, begin, end }) => ({
 *   next: insertAndAck(ctx, new BatchWriter(store, serial, table, { maxBatch: 1000 }), { emit, begin, end }),
 * }));
 * ```
 */
export function insertAndAck(
  ctx: NodeContext,
  writer: BatchWriter,
  out: Omit<WindowOutput, 'subscriber'>,
  committed?: () => void,
): (e: Event) => void {
  // One callback for every event (not a closure each): fewer objects live per queued event.
  const written = (event: Event, err?: unknown) => {
    if (err === undefined) {
      committed?.();
      ctx.ack(event);
    } else out.emit(ctx.fail(event, err));
    out.end();
  };
  return (e) => {
    if (e.error) return out.emit(e);
    out.begin();
    writer.write(e, written);
  };
}
