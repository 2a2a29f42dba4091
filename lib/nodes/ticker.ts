import { Observable } from 'rxjs';
import { periodic } from '../operators/periodic';
import { opt } from './options';
import { defineNode } from './registry';

/**
 * Source emitting one event per period, starting when the network starts (not at creation).
 * The payload is the tick's time in ms from the network's scheduler.
 *
 * @example
 * ```ts
 * net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
 * ```
 */
export const ticker = defineNode({
  name: 'ticker',
  role: 'source',
  summary: 'Emits an event every period; the payload is the tick time in ms.',
  options: {
    interval: opt.duration('period between ticks, e.g. "500ms"', { min: 1 }).require(),
  },
  positional: ['interval'],
  example: "net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));",
  luaExample: 'tb.create_ticker("ticker_500ms", "500ms")',
  build: ({ interval }) => ({
    role: 'source',
    kind: 'ticker',
    // Not rxjs `interval`: see `periodic` (no chained actions on a virtual clock, no drift,
    // never an early tick that would make a downstream rate limit see 1999 ms for 2000).
    create: (ctx) =>
      new Observable((subscriber) => periodic(ctx.scheduler, interval, () => subscriber.next(ctx.event(ctx.scheduler.now())))),
  }),
});
