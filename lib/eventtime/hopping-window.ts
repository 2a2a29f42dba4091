import { TributaryError } from '../errors';
import type { InputOf } from '../nodes/options';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { windowFields } from './fields';
import { keyedWindows } from './keyed-windows';
import { windowNode } from './node';

const hoppingOptions = {
  size: opt.duration('window length', { min: 1 }).require(),
  advance: opt
    .duration('how far each window starts after the previous one (at most size); windows are [k·advance, k·advance + size)', {
      min: 1,
    })
    .require(),
  ...windowFields,
};

/** Options of {@link hoppingWindow}: `size`, `advance` and the shared window options. */
export type HoppingWindowOptions = InputOf<typeof hoppingOptions>;

/**
 * Pipeline folding events into overlapping windows of `size` starting every `advance` (aligned
 * to Unix time 0), per key, by event time: each event counts in every window that contains
 * it (size / advance of them); one result `{ key, start, end, count, value }` per window and
 * key when the watermark passes its end (or on every update).
 *
 * @example
 * ```ts
 * net.add('bets_last_10m', eventtime.hoppingWindow({ size: '10m', advance: '1m', key: 'customer', timeField: 'placed_at' }));
 * ```
 */
export const hoppingWindow = defineNode({
  name: 'hopping_window',
  role: 'pipeline',
  summary: 'Event-time hopping (overlapping) windows of a size every advance, per key, fired by the watermark.',
  options: hoppingOptions,
  positional: ['size', 'advance'],
  example: "net.add('bets_last_10m', eventtime.hoppingWindow({ size: '10m', advance: '1m', key: 'customer', timeField: 'placed_at' }));",
  luaExample: 'tb.create_hopping_window("bets_last_10m", "10m", "1m", { key = "customer", time_field = "placed_at" })',
  build: (o) => {
    if (o.advance > o.size)
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'hopping_window': option 'advance' (${o.advance}ms) must be at most 'size' (${o.size}ms): every event must fall in a window`,
      );
    return windowNode('hopping_window', o, (env, agg, idOf) =>
      keyedWindows({ kind: 'aligned', size: o.size, advance: o.advance }, agg, env, idOf),
    );
  },
});
