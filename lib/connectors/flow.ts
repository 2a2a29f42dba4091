import { Observable, concat, defer, ignoreElements } from 'rxjs';
import { createDelivery, type Settlement } from '../delivery';
import { errorMessage } from '../errors';
import type { Event, EventInit } from '../event';
import { eventOf, sinkStage } from '../nodes/stage';
import type { NodeContext } from '../nodes/types';
import { decodeMessage, type Codec } from './codec';

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
    const push = (
      make: (init: EventInit) => Event,
      init: Omit<EventInit, 'delivery'>,
      onSettle: (s: Settlement) => void,
    ): Promise<void> => {
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
    ctx.reportProgress(() => ({ inFlight }));
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

/** Options of {@link publishingSink}. */
export interface PublishingSinkOptions {
  /** Publishes one event; resolves once the broker took it (the event is acked then). */
  publish: (event: Event) => Promise<void>;
  /** Publishes in flight at once; order on the wire is kept. */
  concurrency: number;
  /** After the last event was settled: flush and close the connection. */
  close: () => Promise<void>;
  /** Aborted when the sink is unsubscribed (stopped, or cut off at the drain timeout). */
  controller: AbortController;
  /** Once unsubscribed: make sure the connection does not outlive the sink. */
  cutOff: () => void;
}

/**
 * The skeleton of every bus sink (`nats_sink`, `amqp_sink`): publishes each event through
 * the sink stage (acked once `publish` resolved, nacked with its error), then closes the
 * connection and completes. Unsubscribed before that, it aborts the controller (ending
 * retries), then calls `cutOff`.
 *
 * @example
 * ```ts
 * create: (ctx) => (source) => publishingSink(ctx, source, { publish, concurrency: 64, close, controller, cutOff: () => void conn?.close() })
 * ```
 */
export function publishingSink(ctx: NodeContext, source: Observable<Event>, o: PublishingSinkOptions): Observable<never> {
  const stage = sinkStage(ctx, (e: Event) => o.publish(e), o.concurrency, eventOf)(source);
  const close = defer(o.close).pipe(ignoreElements());
  return new Observable<never>((subscriber) => {
    const sub = concat(stage, close).subscribe(subscriber);
    return () => {
      o.controller.abort();
      sub.unsubscribe();
      o.cutOff();
    };
  });
}

/**
 * Decodes a bus message and emits its event; a message that cannot be decoded becomes an
 * error event carrying its text, settled by `onBadSettle` (a broker should not redeliver
 * what redelivery cannot fix).
 *
 * @example
 * ```ts
 * await emitMessage(io, m.data, 'json', `message on '${m.subject}'`, init, settle, (s) => (s.acked ? m.ack() : m.term()));
 * ```
 */
export function emitMessage(
  io: FlowIO,
  data: Uint8Array,
  codec: Codec,
  what: string,
  init: Omit<EventInit, 'delivery'>,
  onSettle: (s: Settlement) => void,
  onBadSettle: (s: Settlement) => void = onSettle,
): Promise<void> {
  let payload: unknown;
  try {
    payload = decodeMessage(data, codec);
  } catch (err) {
    return io.emitError(new TextDecoder().decode(data), new Error(`cannot decode ${what}: ${errorMessage(err)}`), init, onBadSettle);
  }
  return io.emit(payload, init, onSettle);
}
