import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { periodic } from '../../lib/operators/periodic';

const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('periodic', () => {
  it('calls at start + k·period and stops when unsubscribed', () => {
    const t = scheduler();
    const frames: number[] = [];
    t.run(() => {
      t.schedule(() => {
        const timer = periodic(t, 300, () => frames.push(t.now()));
        t.schedule(() => timer.unsubscribe(), 1000);
      }, 50);
    });
    expect(frames).toEqual([350, 650, 950]);
  });

  it('runs 100,000 periods on a virtual clock and unsubscribes without recursion (regression: rxjs interval chained every period and overflowed the stack)', () => {
    const t = scheduler();
    let calls = 0;
    t.run(() => {
      const timer = periodic(t, 10, () => calls++);
      t.schedule(() => timer.unsubscribe(), 1_000_005);
    });
    expect(calls).toBe(100_000);
  });

  it('skips periods missed while the process stalled instead of firing them in a burst', () => {
    const t = scheduler();
    const frames: number[] = [];
    t.run(() => {
      let first = true;
      const timer = periodic(t, 100, () => {
        frames.push(t.now());
        // The first call blocks for 250 ms of clock time.
        if (first) {
          first = false;
          t.frame += 250;
        }
      });
      t.schedule(() => timer.unsubscribe(), 800);
    });
    expect(frames).toEqual([100, 400, 500, 600, 700]);
  });

  it('never calls before the due time on a clock whose timers fire early', () => {
    const t = scheduler();
    const early: SchedulerLike = { now: () => t.now(), schedule: (w: any, d = 0, s?: any) => t.schedule(w, d > 1 ? d - 1 : d, s) };
    const frames: number[] = [];
    t.run(() => {
      const timer = periodic(early, 500, () => frames.push(t.now()));
      t.schedule(() => timer.unsubscribe(), 1600);
    });
    expect(frames).toEqual([500, 1000, 1500]);
  });

  it('refuses a period that is not positive', () => {
    expect(() => periodic(scheduler(), 0, () => undefined)).toThrow('period must be positive, got 0');
  });
});
