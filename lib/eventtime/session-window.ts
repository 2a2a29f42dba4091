import { TributaryError } from '../errors';
import type { InputOf } from '../nodes/options';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { windowFields } from './fields';
import { keyedWindows } from './keyed-windows';
import { windowNode } from './node';

const sessionOptions = {
  gap: opt.duration('a session closes after this much event time without an event of its key', { min: 1 }).require(),
  merge: opt.fn<(a: any, b: any) => unknown>('(acc, acc) => acc joining two reduce accumulators when sessions merge (needed with reduce)'),
  ...windowFields,
};

/** Options of {@link sessionWindow}: `gap`, `merge` and the shared window options. */
export type SessionWindowOptions = InputOf<typeof sessionOptions>;

/**
 * Pipeline folding each key's events into sessions: a session is [first event, last event +
 * `gap`); an event within `gap` of a session joins it, and an out-of-order event that bridges
 * two sessions merges them (their aggregates merged — a user `reduce` needs `merge`). One
 * result `{ key, start, end, count, value }` per session when the watermark passes its end.
 *
 * @example
 * ```ts
 * net.add('visits', eventtime.sessionWindow({ gap: '30m', key: 'user', timeField: 'at', timeUnit: 'iso' }));
 * ```
 */
export const sessionWindow = defineNode({
  name: 'session_window',
  role: 'pipeline',
  summary: 'Event-time session windows per key that close after a gap without events; bridging events merge sessions.',
  options: sessionOptions,
  positional: ['gap'],
  example: "net.add('visits', eventtime.sessionWindow({ gap: '30m', key: 'user', timeField: 'at', timeUnit: 'iso' }));",
  luaExample: 'tb.create_session_window("visits", "30m", { key = "user", time_field = "at", time_unit = "iso" })',
  build: (o) => {
    if (o.reduce && !o.merge)
      throw new TributaryError(
        'BAD_OPTION',
        "node kind 'session_window': a reduce needs option 'merge' ((acc, acc) => acc): sessions merge when an event bridges them",
      );
    if (o.merge && !o.reduce) throw new TributaryError('BAD_OPTION', "node kind 'session_window': option 'merge' goes with 'reduce'");
    return windowNode('session_window', o, (env, agg, idOf) => keyedWindows({ kind: 'session', gap: o.gap }, agg, env, idOf));
  },
});
