import { Observable, type Subscription } from 'rxjs';
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
    // Not rxjs `interval`: on a VirtualTimeScheduler (the TestScheduler) each period's action is
    // chained to the previous one, so a long virtual run keeps every past tick alive and its
    // unsubscribe recurses once per tick (stack overflow after a few thousand ticks). A fresh
    // top-level action per period costs nothing under the async scheduler and avoids both.
    create: (ctx) =>
      new Observable((subscriber) => {
        const scheduler = ctx.scheduler;
        let pending: Subscription | undefined;
        // Ticks are due at start + k·interval: a late timer does not push later ticks back, and
        // ticks missed while the process stalled are skipped, like Go's time.Ticker.
        let due = scheduler.now() + interval;
        const tick = () => {
          // A timer can fire a millisecond before the wall clock reads its due time; a tick
          // observed early would make a downstream rate limit see 1999 ms instead of 2000.
          const early = due - scheduler.now();
          if (early > 0) {
            pending = scheduler.schedule(tick, early);
            return;
          }
          subscriber.next(ctx.event(scheduler.now()));
          if (subscriber.closed) return;
          const now = scheduler.now();
          due += interval;
          if (due <= now) due += Math.ceil((now - due + 1) / interval) * interval;
          pending = scheduler.schedule(tick, due - now);
        };
        pending = scheduler.schedule(tick, interval);
        return () => pending?.unsubscribe();
      }),
  }),
});
