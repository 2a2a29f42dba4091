import { Observable, type SchedulerLike } from 'rxjs';
import { createDelivery, type Settlement } from '../delivery';
import { errorMessage } from '../errors';
import type { Event, EventInit } from '../event';
import { isThenable } from '../util/values';
import { opt, type InputOf } from './options';
import { defineNode } from './registry';
import type { NodeContext } from './types';

/** What an injector's function gets to produce events with. */
export interface InjectorIO {
  /**
   * Emits a payload as an event. The promise resolves when the source may emit again:
   * at once, or — with `maxInFlight` — once fewer than that many events are unsettled.
   */
  emit(payload: unknown, init?: Omit<EventInit, 'delivery'>): Promise<void>;
  /** Aborted when the network stops: stop producing then. */
  readonly signal: AbortSignal;
  readonly scheduler: SchedulerLike;
}

/**
 * Flow-control options shared by the sources that pull: the cap on unsettled events
 * (`emit` waits past it) and a hook called once per event when it is acked or nacked.
 *
 * @example
 * ```ts
 * options: { ...flowOptions, fn: opt.fn<InjectorFn>('the producer').require() },
 * ```
 */
export const flowOptions = {
  maxInFlight: opt.integer('cap on emitted but unsettled events (backpressure)', { min: 1 }),
  onSettle: opt.fn<(event: Event, settlement: Settlement) => void>('(event, settlement) => void, once per event'),
};

/** What {@link flowOptions} take: `{ maxInFlight?, onSettle? }`. */
export type FlowOptions = InputOf<typeof flowOptions>;

/** The function an injector runs: a promise that resolves ends the source; a returned function is its clean-up. */
export type InjectorFn = (io: InjectorIO) => void | (() => void) | PromiseLike<unknown>;

const READY: Promise<void> = Promise.resolve();

/**
 * Builds the observable behind an injector: runs `fn` when subscribed, tracks deliveries
 * when flow control is asked for, and aborts `fn`'s signal on unsubscribe.
 *
 * @example
 * ```ts
 * create: (ctx) => injectorSource(ctx, async ({ emit }) => { for (const line of lines) await emit(line); }, { maxInFlight: 100 }),
 * ```
 */
export function injectorSource(ctx: NodeContext, fn: InjectorFn, flow: FlowOptions): Observable<Event> {
  const tracked = flow.maxInFlight !== undefined || flow.onSettle !== undefined;
  const max = flow.maxInFlight ?? Infinity;
  return new Observable<Event>((subscriber) => {
    const controller = new AbortController();
    let aborted = false;
    let inFlight = 0;
    let waiting: (() => void)[] = [];
    const release = () => {
      const ready = waiting;
      waiting = [];
      for (const r of ready) r();
    };
    const emit = (payload: unknown, init?: Omit<EventInit, 'delivery'>): Promise<void> => {
      if (aborted) return READY;
      if (!tracked) {
        subscriber.next(ctx.event(payload, init));
        return READY;
      }
      inFlight++;
      let event: Event;
      const delivery = createDelivery((s) => {
        inFlight--;
        try {
          flow.onSettle?.(event, s);
        } catch (err) {
          // A failing hook must not throw into whichever node settled the event.
          ctx.logger.error(`source '${ctx.name}': onSettle failed: ${errorMessage(err)}`);
        }
        if (inFlight < max) release();
      });
      event = ctx.event(payload, { ...init, delivery });
      subscriber.next(event);
      if (inFlight < max || aborted) return READY;
      return new Promise<void>((resolve) => waiting.push(resolve));
    };
    if (tracked) ctx.reportProgress(() => ({ inFlight }));
    let cleanup: (() => void) | undefined;
    try {
      const result = fn({ emit, signal: controller.signal, scheduler: ctx.scheduler });
      if (typeof result === 'function') cleanup = result;
      else if (isThenable(result)) {
        result.then(
          () => subscriber.complete(),
          (err: unknown) => {
            ctx.logger.error(`source '${ctx.name}' failed: ${errorMessage(err)}`);
            ctx.stats.errors++;
            subscriber.complete();
          },
        );
      }
    } catch (err) {
      ctx.logger.error(`source '${ctx.name}' failed: ${errorMessage(err)}`);
      ctx.stats.errors++;
      subscriber.complete();
    }
    return () => {
      aborted = true;
      controller.abort();
      release();
      cleanup?.();
    };
  });
}

/**
 * The original's injector: a source driven by your function. Return a promise to end the
 * source when it resolves, or a clean-up function for a source that runs until stop.
 * With `maxInFlight`, `emit` waits while that many events are unsettled downstream — a slow
 * sink slows the source instead of filling memory.
 *
 * @example
 * ```ts
 * net.add('numbers', nodes.injector({
 *   maxInFlight: 100,
 *   fn: async ({ emit, signal }) => { for (let i = 0; i < 1e6 && !signal.aborted; i++) await emit(i); },
 * }));
 * ```
 */
export const injector = defineNode({
  name: 'injector',
  role: 'source',
  summary: 'A source driven by your function, with an optional cap on unsettled events.',
  options: {
    fn: opt.fn<InjectorFn>('({ emit, signal, scheduler }) => promise | clean-up').require(),
    ...flowOptions,
  },
  positional: ['fn'],
  example: "net.add('numbers', nodes.injector({ fn: async ({ emit }) => { for (let i = 0; i < 3; i++) await emit(i); } }));",
  build: ({ fn, ...flow }) => ({
    role: 'source',
    kind: 'injector',
    create: (ctx) => injectorSource(ctx, fn, flow),
  }),
});
