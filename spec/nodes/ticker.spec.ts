import { nodes, TributaryError, createNodeContext, type Event } from 'tributary';
import type { SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { marbles } from 'rxjs-marbles/jest';
import { sourcePayloads } from 'tributary/testing';
import { probeContext, sourceOf, testScheduler, viewAll } from './support';

describe('ticker', () => {
  it(
    'emits nothing when unsubscribed before the first period ends',
    marbles((m) => {
      m.expect(sourcePayloads(nodes.ticker({ interval: '500ms' }), { scheduler: m.scheduler }), '^ 498ms !').toBeObservable('');
    }),
  );

  it(
    'emits one event per period whose payload and event time are the tick time',
    marbles((m) => {
      const seen: Event[] = [];
      const ticks = sourceOf(nodes.ticker({ interval: '500ms' }), probeContext('ticker_500ms', m.scheduler));
      m.expect(ticks.pipe(viewAll), '^ 1600ms !').toBeObservable('500ms a 499ms b 499ms c', { a: 500, b: 1000, c: 1500 });
      const sub = ticks.subscribe((e) => seen.push(e));
      m.scheduler.schedule(() => sub.unsubscribe(), 1600);
      m.flush();
      expect(seen.map((e) => e.meta.time)).toEqual([500, 1000, 1500]);
      expect(new Set(seen.map((e) => e.meta.id)).size).toBe(3);
    }),
  );

  it(
    'emits exactly on the period boundary (an event at the unsubscribe frame is not lost early)',
    marbles((m) => {
      m.expect(sourcePayloads(nodes.ticker({ interval: 2 }), { scheduler: m.scheduler }), '^-----!').toBeObservable('--a-b-', {
        a: 2,
        b: 4,
      });
    }),
  );

  it('never completes on its own, and a virtual hour of ticks unsubscribes without overflowing the stack', () => {
    const t = testScheduler();
    let completed = false;
    let count = 0;
    t.run(({ flush }) => {
      const sub = sourceOf(nodes.ticker({ interval: '1s' }), probeContext('t', t)).subscribe({
        next: () => count++,
        complete: () => (completed = true),
      });
      t.schedule(() => sub.unsubscribe(), 3_600_001);
      flush();
    });
    expect(count).toBe(3600);
    expect(completed).toBe(false);
  });

  it(
    'starts its period at subscription (network start), not when the node is created',
    marbles((m) => {
      const ticks = sourcePayloads(nodes.ticker({ interval: '500ms' }), { scheduler: m.scheduler });
      m.expect(ticks, '1000ms ^ 1100ms !').toBeObservable('1500ms a 499ms b', { a: 1500, b: 2000 });
    }),
  );

  it('stops ticking after an early unsubscribe', () => {
    const t = testScheduler();
    let count = 0;
    t.run(({ flush }) => {
      const sub = sourceOf(nodes.ticker({ interval: 10 }), probeContext('t', t)).subscribe(() => count++);
      t.schedule(() => sub.unsubscribe(), 25);
      flush();
    });
    expect(count).toBe(2);
    expect(t.actions).toHaveLength(0);
  });

  it('rejects a zero or missing interval, naming the kind and the option', () => {
    expect(() => nodes.ticker({ interval: 0 })).toThrow(TributaryError);
    expect(() => nodes.ticker({ interval: '0s' })).toThrow(/node kind 'ticker'.*'interval'/);
    expect(() => (nodes.ticker as (o?: object) => unknown)()).toThrow(/node kind 'ticker': option 'interval' is required/);
  });
});

describe('ticker on a clock whose timers fire early', () => {
  it('never emits before a tick is due, so a downstream rate limit sees whole intervals', () => {
    const t = new TestScheduler((a, b) => expect(a).toEqual(b));
    // Timers that fire a millisecond early, as setTimeout can when read against Date.now().
    const early: SchedulerLike = {
      now: () => t.now(),
      schedule: (work: any, delay = 0, state?: any) => t.schedule(work, delay > 1 ? delay - 1 : delay, state),
    };
    const frames: number[] = [];
    t.run(() => {
      const sub = toOperatorSource(early).subscribe((e) => frames.push(e.meta.time));
      t.schedule(() => sub.unsubscribe(), 2600);
    });
    expect(frames).toEqual([500, 1000, 1500, 2000, 2500]);
  });
});

function toOperatorSource(scheduler: SchedulerLike) {
  const node = nodes.ticker({ interval: '500ms' });
  if (node.role !== 'source') throw new Error('ticker is a source');
  return node.create(createNodeContext('ticker', { scheduler }));
}
