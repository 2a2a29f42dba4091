import { isEvent, withDelivery, withPayload, type Event } from '../event';
import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, eventOf, functionStage, type NodeFn } from './stage';

/**
 * The original's interceptor: a pipeline function over whole events, for logic that needs
 * metadata (key, time, headers). `fn` returns an event (derive it with `withPayload`,
 * `withError` …), a bare payload (wrapped keeping the input's metadata), or `undefined` to
 * drop (and ack) the event; a returned event without an ack handle takes the input's.
 *
 * @example
 * ```ts
 * net.add('keyed', nodes.interceptor({ fn: (e) => withPayload(e, { key: e.meta.key, ...e.payload }) }));
 * ```
 */
export const interceptor = defineNode({
  name: 'interceptor',
  role: 'pipeline',
  summary: 'Calls fn(event) per event; returns an event, a payload, or undefined to drop.',
  options: {
    fn: opt.fn<NodeFn<Event, unknown>>('event => event | payload | undefined (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('stamp', nodes.interceptor({ fn: (e: Event) => ({ at: e.meta.time, value: e.payload }) }));",
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'interceptor',
    create: (ctx) =>
      functionStage(ctx, fn, concurrency, eventOf, (e, result, emit) => {
        if (result === undefined) ctx.drop(e);
        else if (!isEvent(result)) emit(withPayload(e, result));
        // A brand-new event (createEvent) has no handle: give it the input's, or that
        // input would never be acked or nacked.
        else emit(result.delivery === undefined && e.delivery !== undefined ? withDelivery(result, e.delivery) : result);
      }),
  }),
});
