import { createEvent, isEvent, withDelivery, withPayload, type Event, type EventMeta } from '../event';
import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, eventOf, pipeStep, stepStage, type NodeFn } from './stage';

/**
 * The original's interceptor: a pipeline function over whole events, for logic that needs
 * metadata (key, time, headers). `fn` returns an event (derive it with `withPayload`,
 * `withError` …), a bare payload (wrapped keeping the input's metadata), or `undefined` to
 * drop (and ack) the event; a returned event without an ack handle takes the input's. A
 * plain `{ payload, meta }` object whose `meta.id` is the input's — the input changed in
 * place, as a Lua function does with its event table, or `{ ...e, payload }` in JS — is that
 * event with the new payload and the `time`, `key` and `headers` it carries, not a payload.
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
      stepStage(
        ctx,
        pipeStep(ctx, fn, eventOf, (e, result) => {
          if (result === undefined) {
            ctx.drop(e);
            return undefined;
          }
          if (!isEvent(result)) return sameEvent(e, result) ?? withPayload(e, result);
          // A brand-new event (createEvent) has no handle: give it the input's, or that
          // input would never be acked or nacked.
          return result.delivery === undefined && e.delivery !== undefined ? withDelivery(result, e.delivery) : result;
        }),
        concurrency,
      ),
  }),
});

/** `result` read as the input event changed in place (`{ payload, meta }` with the input's id), or undefined. */
function sameEvent(input: Event, result: unknown): Event | undefined {
  if (typeof result !== 'object' || result === null || Array.isArray(result) || !('payload' in result)) return undefined;
  const meta = (result as { meta?: unknown }).meta as Partial<EventMeta> | undefined;
  if (typeof meta !== 'object' || meta === null || meta.id !== input.meta.id) return undefined;
  const payload = (result as { payload: unknown }).payload;
  const { time, key, headers } = input.meta;
  if (meta.time === time && meta.key === key && meta.headers === headers) return withPayload(input, payload);
  return createEvent(payload, {
    id: input.meta.id,
    time: typeof meta.time === 'number' && Number.isFinite(meta.time) ? meta.time : time,
    key: typeof meta.key === 'string' ? meta.key : meta.key === undefined ? undefined : key,
    headers: typeof meta.headers === 'object' && meta.headers !== null ? (meta.headers as Record<string, string>) : headers,
    delivery: input.delivery,
  });
}
