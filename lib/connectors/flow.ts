import { errorMessage } from '../errors';
import { Observable } from 'rxjs';
import { createDelivery, type Settlement } from '../delivery';
import type { Event, EventInit } from '../event';
import type { NodeContext } from '../nodes/types';

/** What a bus source's loop gets: emit with flow control, and the stop signal. */
export interface FlowIO {
  /**
   * Emits an event whose delivery reports to `onSettle`. Resolves when another may be
   * emitted: at once, or once fewer than `maxInFlight` events are unsettled.
   */
  emit(payload: unknown, init: Omit<EventInit, 'delivery'>, onSettle: (s: Settlement) => void): Promise<void>;
  /** Emits an error event (a message that could not be decoded); it is settled like any other. */
  emitError(payload: unknown, cause: unknown, init: Omit<EventInit, 'delivery'>, onSettle: (s: Settlement) => void): Promise<void>;
  /** Aborted when the network stops the source: stop taking messages then. */
  readonly signal: AbortSignal;
  /** Resolves once every emitted event has been settled (or at once when none is open). */
  settled(): Promise<void>;
  /** Events emitted and not yet settled. */
  readonly inFlight: number;
}

/**
 * The skeleton of every bus source: runs `loop` when subscribed, caps unsettled events at
 * `maxInFlight`, and on unsubscribe aborts the signal but lets the loop's clean-up wait for
 * in-flight events to settle (so their acks reach the broker before it closes the
 * connection). A rejected loop is logged with the node name and completes the source.
 *
 * @example
 * ```ts
 * create: (ctx) => flowSource(ctx, 100, async (io) => {
 *   for await (const m of messages) await io.emit(decode(m), {}, (s) => (s.acked ? m.ack() : m.nak()));
 * })
 * ```
 */
export function flowSource(ctx: NodeContext, maxInFlight: number, loop: (io: FlowIO) => Promise<void>): Observable<Event> {
  return new Observable<Event>((subscriber) => {
    const controller = new AbortController();
    let inFlight = 0;
    let waiting: (() => void)[] = [];
    let idle: (() => void)[] = [];
    const wake = (list: (() => void)[]) => {
      for (const r of list) r();
    };
    const push = (make: (init: EventInit) => Event, init: Omit<EventInit, 'delivery'>, onSettle: (s: Settlement) => void): Promise<void> => {
      inFlight++;
      const delivery = createDelivery((s) => {
        inFlight--;
        try {
          onSettle(s);
        } catch (err) {
          ctx.logger.error(`node '${ctx.name}': settling a message failed: ${errorMessage(err)}`);
        }
        if (inFlight < maxInFlight && waiting.length) {
          const w = waiting;
          waiting = [];
          wake(w);
        }
        if (inFlight === 0 && idle.length) {
          const w = idle;
          idle = [];
          wake(w);
        }
      });
      subscriber.next(make({ ...init, delivery }));
      if (inFlight < maxInFlight || controller.signal.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => waiting.push(resolve));
    };
    const io: FlowIO = {
      emit: (payload, init, onSettle) => push((i) => ctx.event(payload, i), init, onSettle),
      emitError: (payload, cause, init, onSettle) => push((i) => ctx.fail(ctx.event(payload, i), cause), init, onSettle),
      signal: controller.signal,
      settled: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve))),
      get inFlight() {
        return inFlight;
      },
    };
    loop(io).then(
      () => subscriber.complete(),
      (err: unknown) => {
        ctx.stats.errors++;
        ctx.logger.error(`node '${ctx.name}': ${errorMessage(err)}`);
        subscriber.complete();
      },
    );
    return () => {
      controller.abort();
      const w = waiting;
      waiting = [];
      wake(w);
    };
  });
}
