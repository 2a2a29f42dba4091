import type { InputOf } from '../nodes/options';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { windowFields } from './fields';
import { keyedWindows } from './keyed-windows';
import { windowNode } from './node';

const tumblingOptions = {
  size: opt.duration('window length; windows are [k·size, (k+1)·size) of event time', { min: 1 }).require(),
  ...windowFields,
};

/** Options of {@link tumblingWindow}: `size` and the shared window options. */
export type TumblingWindowOptions = InputOf<typeof tumblingOptions>;

/**
 * Pipeline folding events into back-to-back windows of `size` (aligned to Unix time 0), per
 * key, by event time: one result `{ key, start, end, count, value }` per window and key when
 * the watermark passes the window's end (or on every update). Late events leave as
 * late-event errors (`net.routeErrors`); the end of the input fires every open window.
 *
 * @example
 * ```ts
 * net.add('stakes_per_minute', eventtime.tumblingWindow({ size: '1m', key: 'customer', aggregate: 'sum', field: 'stake', timeField: 'placed_at' }));
 * ```
 */
export const tumblingWindow = defineNode({
  name: 'tumbling_window',
  role: 'pipeline',
  summary: 'Event-time tumbling windows per key: count, sum, avg, min, max, collect or reduce, fired by the watermark.',
  options: tumblingOptions,
  positional: ['size'],
  example:
    "net.add('stakes_per_minute', eventtime.tumblingWindow({ size: '1m', key: 'customer', aggregate: 'sum', field: 'stake', timeField: 'placed_at' }));",
  luaExample:
    'tb.create_tumbling_window("stakes_per_minute", "1m", { key = "customer", aggregate = "sum", field = "stake", time_field = "placed_at" })',
  build: (o) =>
    windowNode('tumbling_window', o, (env, agg, idOf) => keyedWindows({ kind: 'aligned', size: o.size, advance: o.size }, agg, env, idOf)),
});
