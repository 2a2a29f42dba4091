import { isObservable, map as rxMap, type Observable } from 'rxjs';
import { isEvent } from '../event';
import { defineNode } from './registry';
import { injectorSource, type FlowOptions } from './injector';

/** Options of {@link from}. */
export interface FromOptions extends FlowOptions {
  /** An Observable, an array or other iterable, or an async iterable of payloads (or events). */
  items: Observable<unknown> | Iterable<unknown> | AsyncIterable<unknown>;
}

/**
 * Source emitting the given items as events, then completing. Iterables are pulled, so
 * `maxInFlight` caps unsettled events; an Observable pushes and is taken as it comes.
 * Items that already are events are passed as they are.
 *
 * @example
 * ```ts
 * net.add('numbers', nodes.from({ items: [1, 2, 3] }));
 * net.add('clicks', nodes.from({ items: fromEvent(button, 'click') }));
 * ```
 */
export const from = defineNode<FromOptions, FromOptions>({
  name: 'from',
  role: 'source',
  summary: 'Emits the items of a list, iterable, async iterable or Observable, then completes.',
  options: {
    items: { type: 'any', required: true, description: 'Observable, list or (async) iterable of payloads' },
    maxInFlight: { type: 'integer', min: 1, description: 'cap on emitted but unsettled events (iterables only)' },
    onSettle: { type: 'function', description: '(event, settlement) => void, once per event' },
  },
  positional: ['items'],
  example: "net.add('numbers', nodes.from({ items: [1, 2, 3] }));",
  luaExample: 'tb.create_from("numbers", { 1, 2, 3 })',
  build: ({ items, ...flow }) => {
    if (isObservable(items)) {
      const obs = items;
      return {
        role: 'source',
        kind: 'from',
        create: (ctx) => obs.pipe(rxMap((v) => (isEvent(v) ? v : ctx.event(v)))),
      };
    }
    const iterable = items as Iterable<unknown> | AsyncIterable<unknown>;
    const isSync = typeof (iterable as Iterable<unknown>)?.[Symbol.iterator] === 'function';
    const isAsync = typeof (iterable as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
    if (!isSync && !isAsync) throw new TypeError("node kind 'from': option 'items' must be an Observable, a list or an (async) iterable");
    const tracked = flow.maxInFlight !== undefined || flow.onSettle !== undefined;
    return {
      role: 'source',
      kind: 'from',
      create: (ctx) =>
        injectorSource(
          ctx,
          async ({ emit, signal }) => {
            if (isSync && !tracked) {
              // Fast path: nothing to wait for, so no promise per item.
              for (const item of iterable as Iterable<unknown>) {
                if (signal.aborted) return;
                void emit(item);
              }
              return;
            }
            for await (const item of iterable as AsyncIterable<unknown>) {
              if (signal.aborted) return;
              await emit(item);
            }
          },
          flow,
        ),
    };
  },
});
