import { TributaryError } from '../errors';
import type { InputOf } from '../nodes/options';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { windowFields } from './fields';
import { windowNode } from './node';
import { slidingWindows } from './sliding';

const slidingOptions = {
  duration: opt.duration("each event's window: the events of its key in (time − duration, time]", { min: 1 }),
  count: opt.integer("each event's window: the last count events of its key, itself included", { min: 1 }),
  ...windowFields,
};

/** Options of {@link slidingWindow}: `duration` or `count`, and the shared window options. */
export type SlidingWindowOptions = InputOf<typeof slidingOptions>;

/**
 * Pipeline emitting, for every event, the aggregate of its key over the last `duration` of
 * event time (or the last `count` events) ending at it: `{ key, start, end, count, value }`
 * with `end` the event's time. By default a result goes out once the watermark has passed the
 * event's time, so out-of-order input gives the same results as ordered input; with
 * `emit: 'update'` (or processing time) at once. A late event within `allowedLateness` gets
 * its result and re-emits the results it changes.
 *
 * @example
 * ```ts
 * net.add('stake_last_hour', eventtime.slidingWindow({ duration: '1h', key: 'customer', aggregate: 'sum', field: 'stake', timeField: 'placed_at' }));
 * ```
 */
export const slidingWindow = defineNode({
  name: 'sliding_window',
  role: 'pipeline',
  summary: 'Per-event sliding aggregate over the last duration (or count) of each key, in event time.',
  options: slidingOptions,
  positional: ['duration'],
  example:
    "net.add('stake_last_hour', eventtime.slidingWindow({ duration: '1h', key: 'customer', aggregate: 'sum', field: 'stake', timeField: 'placed_at' }));",
  luaExample:
    'tb.create_sliding_window("stake_last_hour", "1h", { key = "customer", aggregate = "sum", field = "stake", time_field = "placed_at" })',
  build: (o) => {
    if ((o.duration === undefined) === (o.count === undefined))
      throw new TributaryError('BAD_OPTION', "node kind 'sliding_window': give option 'duration' or option 'count' (one of them)");
    const shape = o.duration !== undefined ? { duration: o.duration } : { count: o.count! };
    return windowNode('sliding_window', o, (env, agg, idOf) => slidingWindows(shape, agg, env, o.time === 'processing', idOf));
  },
});
