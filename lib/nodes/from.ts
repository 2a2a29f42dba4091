import { Observable, isObservable, map as rxMap } from 'rxjs';
import { TributaryError } from '../errors';
import { eventAt, isEvent, type Event } from '../event';
import { bareReceiver } from '../operators/subscriber';
import { flowOptions, injectorSource } from './injector';
import { opt } from './options';
import { defineNode } from './registry';

/**
 * Source emitting the given items as events, then completing. Iterables are pulled, so
 * `maxInFlight` caps unsettled events; an Observable pushes and is taken as it comes (so
 * `maxInFlight` with one is an error rather than a cap that does nothing).
 * Items that already are events are passed as they are. A Lua list with a `nil` in it (which
 * converts to an object with keys 1, 3 …) is refused naming the nil item.
 *
 * @example
 * ```ts
 * net.add('numbers', nodes.from({ items: [1, 2, 3] }));
 * net.add('clicks', nodes.from({ items: fromEvent(button, 'click') }));
 * ```
 */
export const from = defineNode({
  name: 'from',
  role: 'source',
  summary: 'Emits the items of a list, iterable, async iterable or Observable, then completes.',
  options: {
    items: opt
      .any<Observable<unknown> | Iterable<unknown> | AsyncIterable<unknown>>('Observable, list or (async) iterable of payloads')
      .require(),
    maxInFlight: flowOptions.maxInFlight.describe('cap on emitted but unsettled events (iterables only)'),
    onSettle: flowOptions.onSettle,
  },
  positional: ['items'],
  example: "net.add('numbers', nodes.from({ items: [1, 2, 3] }));",
  luaExample: 'tb.create_from("numbers", { 1, 2, 3 })',
  build: ({ items, ...flow }) => {
    if (isObservable(items)) {
      if (flow.maxInFlight !== undefined) {
        throw new TributaryError(
          'BAD_OPTION',
          "node kind 'from': option 'maxInFlight' cannot apply to an Observable, which pushes its items as they come — give a list or an (async) iterable to be pulled, or slow the Observable itself",
        );
      }
      const obs = items;
      return {
        role: 'source',
        kind: 'from',
        create: (ctx) =>
          new Observable<Event>((subscriber) => {
            const bare = bareReceiver(subscriber);
            if (bare === undefined) return obs.pipe(rxMap((v) => (isEvent(v) ? v : ctx.event(v)))).subscribe(subscriber);
            // A fused run behind the source takes bare payloads: events are made only where needed.
            return obs.subscribe({
              next: (v) => (isEvent(v) ? subscriber.next(v) : bare.nextBare(v, ctx.scheduler.now())),
              error: (err: unknown) => subscriber.error(err),
              complete: () => subscriber.complete(),
            });
          }),
      };
    }
    const iterable = items as Iterable<unknown> | AsyncIterable<unknown>;
    const isSync = typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] === 'function';
    const isAsync = typeof (iterable as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
    if (!isSync && !isAsync) {
      const hole = luaListHole(items);
      if (hole !== undefined) {
        throw new TributaryError(
          'BAD_OPTION',
          `node kind 'from': option 'items': item ${hole} is nil; a Lua list cannot hold nil — use a sentinel such as false`,
        );
      }
      throw new TributaryError('BAD_OPTION', "node kind 'from': option 'items' must be an Observable, a list or an (async) iterable");
    }
    const tracked = flow.maxInFlight !== undefined || flow.onSettle !== undefined;
    if (isSync && !tracked) {
      // Fast path: nothing to wait for. A synchronous burst happens at one instant, so the
      // clock is read once per 256 items rather than per item.
      const list = iterable as Iterable<unknown>;
      return {
        role: 'source',
        kind: 'from',
        create: (ctx) =>
          new Observable<Event>((subscriber) => {
            let time = ctx.scheduler.now();
            let n = 0;
            // A fused run behind the source takes bare payloads: events are made only where needed.
            const bare = bareReceiver(subscriber);
            const emit = (item: unknown): void => {
              // typeof first: most items are plain values, and instanceof on each was ~9% of a linear run.
              if (typeof item === 'object' && item !== null && isEvent(item)) subscriber.next(item);
              else if (bare !== undefined) bare.nextBare(item, time);
              else subscriber.next(eventAt(item, time));
            };
            if (Array.isArray(list)) {
              for (let i = 0; i < list.length; i++) {
                if (subscriber.closed) return;
                if ((i & 255) === 255) time = ctx.scheduler.now();
                emit(list[i]);
              }
              subscriber.complete();
              return;
            }
            for (const item of list) {
              if (subscriber.closed) return;
              if ((++n & 255) === 0) time = ctx.scheduler.now();
              emit(item);
            }
            subscriber.complete();
          }),
      };
    }
    return {
      role: 'source',
      kind: 'from',
      create: (ctx) =>
        injectorSource(
          ctx,
          async ({ emit, signal }) => {
            for await (const item of iterable as AsyncIterable<unknown>) {
              if (signal.aborted) return;
              // emit() takes payloads: an event item is re-emitted with its own metadata
              // (it was wrapped whole, so the payload became the event object).
              if (isEvent(item)) {
                const { id, time, key, headers } = item.meta;
                await emit(item.payload, { id, time, key, headers: headers as Record<string, string> | undefined });
              } else await emit(item);
            }
          },
          flow,
        ),
    };
  },
});

/**
 * The first missing index of what a Lua list with a nil in it converts to: a table whose keys
 * are positive integers but not exactly 1..n becomes an object (`{1, nil, 3}` gives
 * `{ '1': 1, '3': 3 }`), so the first absent index is the nil. `undefined` for anything else.
 */
function luaListHole(items: unknown): number | undefined {
  if (items === null || typeof items !== 'object' || Object.getPrototypeOf(items) !== Object.prototype) return undefined;
  const keys = Object.keys(items);
  if (keys.length === 0 || !keys.every((k) => /^[1-9][0-9]*$/.test(k))) return undefined;
  const present = new Set(keys.map(Number));
  for (let i = 1; ; i++) if (!present.has(i)) return i;
}
