import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { MAX_TIMER_MS, Network, nodes, parseTimer, periodic } from 'tributary';
import { connectors } from 'tributary/connectors';

/**
 * Issue 9, point 7: a duration longer than a timer can hold (2^31 − 1 ms) used to be accepted
 * and became a 1 ms busy loop; every duration that becomes a timer refuses it, naming the option.
 */
describe('durations that become timers', () => {
  const HUGE = '99999999999999h';

  it('parseTimer accepts up to MAX_TIMER_MS and names the option above it', () => {
    expect(parseTimer(MAX_TIMER_MS, 'x')).toBe(MAX_TIMER_MS);
    expect(parseTimer('24h', 'x')).toBe(86_400_000);
    expect(() => parseTimer(HUGE, 'drainTimeout')).toThrow(
      /option 'drainTimeout': "99999999999999h" is longer than a timer can hold \(at most 2147483647ms/,
    );
  });

  it.each([
    ['delay duration', () => nodes.delay({ duration: HUGE }), /node kind 'delay': option 'duration' must be at most 2147483647ms/],
    ['buffer interval', () => nodes.buffer({ size: 10, interval: HUGE }), /node kind 'buffer': option 'interval' must be at most/],
    ['webhook timeout', () => connectors.webhook({ url: 'http://127.0.0.1:9/x', timeout: HUGE }), /option 'timeout' must be at most/],
    ['nats closeTimeout', () => connectors.natsSource({ subject: 's', closeTimeout: HUGE }), /option 'closeTimeout' must be at most/],
    ['network drainTimeout', () => new Network({ drainTimeout: HUGE }), /option 'drainTimeout': .* longer than a timer can hold/],
  ])('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  it('a duration that is not a timer may be longer (a dedupe memory of 30 days)', () => {
    expect(() => nodes.dedupe({ duration: '720h' })).not.toThrow();
  });

  it('a periodic timer longer than a timer can hold (ticker, window clean-ups) fires on time, armed in steps', () => {
    const t = new TestScheduler((a, b) => expect(a).toEqual(b));
    const period = 2 * MAX_TIMER_MS + 5;
    const delays: number[] = [];
    const recording = {
      now: () => t.now(),
      schedule: (work: () => void, delay?: number) => {
        delays.push(delay ?? 0);
        return t.schedule(work, delay);
      },
    } as SchedulerLike;
    const fired: number[] = [];
    t.run(() => {
      const timer = periodic(recording, period, () => fired.push(t.now()));
      t.schedule(() => timer.unsubscribe(), 2 * period + 1);
    });
    expect(fired).toEqual([period, 2 * period]);
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_MS);
  });
});
