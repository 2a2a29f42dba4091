import { Subscription, type SchedulerLike } from 'rxjs';
import { MAX_TIMER_MS } from '../duration';

/**
 * Calls `fn` every `period` ms on `scheduler`, at start + k·period, until the returned
 * subscription is unsubscribed. Unlike rxjs `interval`:
 * - each period is a fresh top-level action, so on a virtual scheduler (the TestScheduler) a
 *   long run neither keeps past periods alive nor recurses once per period on unsubscribe;
 * - a late timer does not push later periods back, and periods missed while the process
 *   stalled are skipped (like Go's time.Ticker);
 * - a timer that fires before its due time by the scheduler's clock (setTimeout against
 *   Date.now can be 1 ms early) waits for it, so `fn` never sees an early clock;
 * - a period longer than a timer can hold (about 24.8 days) is waited out in steps.
 *
 * @example
 * ```ts
 * const timer = periodic(ctx.scheduler, 1000, () => runQuery());
 * // … on teardown
 * timer.unsubscribe();
 * ```
 */
export function periodic(scheduler: SchedulerLike, period: number, fn: () => void): Subscription {
  if (!(period > 0)) throw new RangeError(`period must be positive, got ${period}`);
  const subscription = new Subscription();
  let pending: Subscription | undefined;
  let due = scheduler.now() + period;
  // A timer cannot hold more than MAX_TIMER_MS (Node would fire it after 1 ms): a longer
  // wait is armed in steps, each re-armed by the early-timer check in `tick`.
  const arm = (delay: number) => {
    pending = scheduler.schedule(tick, Math.min(delay, MAX_TIMER_MS));
  };
  const tick = () => {
    if (subscription.closed) return;
    const early = due - scheduler.now();
    if (early > 0) return arm(early);
    fn();
    if (subscription.closed) return;
    const now = scheduler.now();
    due += period;
    if (due <= now) due += Math.ceil((now - due + 1) / period) * period;
    arm(due - now);
  };
  arm(period);
  subscription.add(() => pending?.unsubscribe());
  return subscription;
}
