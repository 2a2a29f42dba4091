import { interval as rxInterval, map } from 'rxjs';
import type { Duration } from '../duration';
import { defineNode } from './registry';

/** Options of {@link ticker}. */
export interface TickerOptions {
  /** Period between ticks: Go syntax (`"500ms"`) or ms. */
  interval: Duration;
}

/**
 * Source emitting one event per period, starting when the network starts (not at creation).
 * The payload is the tick's time in ms from the network's scheduler.
 *
 * @example
 * ```ts
 * net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
 * ```
 */
export const ticker = defineNode<TickerOptions, { interval: number }>({
  name: 'ticker',
  role: 'source',
  summary: 'Emits an event every period; the payload is the tick time in ms.',
  options: {
    interval: { type: 'duration', required: true, min: 1, description: 'period between ticks, e.g. "500ms"' },
  },
  positional: ['interval'],
  example: "net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));",
  luaExample: 'tb.create_ticker("ticker_500ms", "500ms")',
  build: ({ interval }) => ({
    role: 'source',
    kind: 'ticker',
    create: (ctx) => rxInterval(interval, ctx.scheduler).pipe(map(() => ctx.event(ctx.scheduler.now()))),
  }),
});
