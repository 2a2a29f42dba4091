/**
 * What the windows do beyond the matrix: lateness and re-emission, session merging, emit on
 * update, the aggregations, time units and keys, idle inputs, processing time, and option
 * errors. All on virtual time.
 */
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createEvent, createNodeContext, TributaryError, type Event, type NodeProbe, type NodeSpec } from 'tributary';
import { eventtime } from '../../lib/eventtime';
import { bet, marbles, res, spaced, steps, type Step } from './support';

const LATE = { error: 'late event' };

/** Runs payloads straight through the node (then completes): full error messages and results. */
function direct(node: NodeSpec, payloads: unknown[]): { errors: string[]; results: unknown[] } {
  if (node.role !== 'pipeline') throw new Error('pipeline');
  const input = new Subject<Event>();
  const errors: string[] = [];
  const results: unknown[] = [];
  node
    .create(createNodeContext('w'))(input)
    .subscribe((e) => (e.error ? errors.push(e.error.message) : results.push(e.payload)));
  for (const p of payloads) input.next(createEvent(p));
  input.complete();
  return { errors, results };
}

/** Runs payloads arriving 10 ms apart (completing 10 ms after the last unless `complete` is false) and expects the steps. */
function expectRun(node: ReturnType<typeof eventtime.tumblingWindow>, payloads: unknown[], expected: Step[], complete = true) {
  const input = spaced(payloads, complete);
  const out = steps(expected);
  return marbles(node, ({ cold, expectObservable }, op) => {
    expectObservable(cold(input.marble, input.values).pipe(op)).toBe(out.marble, out.values);
  });
}

describe('allowedLateness', () => {
  it('tumbling: a late event within the lateness re-emits the updated window at once; after it, it is a late event', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'k', allowedLateness: 10 });
    // b (25) fires [10,20); c (13) updates it and re-emits; d (5): [0,10) ended at 10, +10 ≤ 25: late.
    // e (31) fires [20,30) and purges [10,20) (31 ≥ 20 + 10); f (14) is then late too.
    expectRun(
      node,
      [bet(12), bet(25), bet(13), bet(5), bet(31), bet(14)],
      [
        [10, res('x', 10, 20, 1)],
        [20, res('x', 10, 20, 2)],
        [30, LATE],
        [40, res('x', 20, 30, 1)],
        [50, LATE],
        [60, res('x', 30, 40, 1), '|'],
      ],
    );
  });

  it('session: a late event within the lateness extends a fired session, which fires again when the watermark passes its new end', () => {
    const node = eventtime.sessionWindow({ gap: 5, timeField: 't', allowedLateness: 20 });
    // a (1) → [1,6); b (20) fires it; c (4) joins the fired session, now [1,9): re-emitted at once.
    // d (8) extends it to [1,13), still behind the watermark (20): re-emitted too; e (40) fires
    // b's session and purges [1,13) (13 + 20 ≤ 40).
    expectRun(
      node,
      [bet(1), bet(20), bet(4), bet(8), bet(40)],
      [
        [10, res(null, 1, 6, 1)],
        [20, res(null, 1, 9, 2)],
        [30, res(null, 1, 13, 3)],
        [40, res(null, 20, 25, 1)],
        [50, res(null, 40, 45, 1), '|'],
      ],
    );
  });

  it('sliding: a late event within the lateness gets its result and re-emits the results it changes', () => {
    const node = eventtime.slidingWindow({ duration: 10, timeField: 't', allowedLateness: 20 });
    // a (10) goes out when b (20) moves the watermark past it, b when d (30) does. c (15) is
    // behind the watermark but within the lateness: its own result at once, and b's again.
    expectRun(
      node,
      [bet(10), bet(20), bet(30), bet(15)],
      [
        [10, res(null, 0, 10, 1)],
        [20, res(null, 10, 20, 1)],
        [30, res(null, 5, 15, 2), res(null, 10, 20, 2)],
        [40, res(null, 20, 30, 1), '|'],
      ],
    );
  });
});

describe('session windows', () => {
  it('an out-of-order event bridging two sessions merges them into one result', () => {
    const node = eventtime.sessionWindow({ gap: 5, timeField: 't', key: 'k', maxOutOfOrderness: 100 });
    expectRun(
      node,
      [bet(1), bet(9), bet(30, 'y'), bet(5), bet(7, 'y')],
      [[50, res('y', 7, 12, 1), res('x', 1, 14, 3), res('y', 30, 35, 1), '|']],
    );
  });

  it('merging with a reduce uses the merge function', () => {
    const node = eventtime.sessionWindow({
      gap: 5,
      timeField: 't',
      maxOutOfOrderness: 100,
      reduce: (acc: number[], p: { v: number }) => [...acc, p.v],
      initial: [],
      merge: (a: number[], b: number[]) => [...a, ...b].sort((x, y) => x - y),
    });
    expectRun(node, [bet(1, 'x', 1), bet(9, 'x', 2), bet(5, 'x', 3)], [[30, res(null, 1, 14, 3, [1, 2, 3]), '|']]);
  });
});

describe("emit: 'update'", () => {
  it('emits the current aggregate on every event and nothing more when the window closes', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', aggregate: 'sum', field: 'v', emit: 'update' });
    expectRun(
      node,
      [bet(1, 'x', 2), bet(4, 'x', 3), bet(12, 'x', 5)],
      [
        [0, res(null, 0, 10, 1, 2)],
        [10, res(null, 0, 10, 2, 5)],
        [20, res(null, 10, 20, 1, 5)],
        [30, '|'],
      ],
    );
  });
});

describe('aggregations', () => {
  const input = [bet(1, 'x', 4), bet(2, 'x', -1), bet(3, 'x', 9)];
  it.each([
    ['sum', 12],
    ['avg', 4],
    ['min', -1],
    ['max', 9],
    ['collect', [4, -1, 9]],
  ])('%s of a field', (aggregate, value) => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', aggregate: aggregate as 'sum', field: 'v' });
    expectRun(node, input, [[30, res(null, 0, 10, 3, value), '|']]);
  });

  it('collect without a field collects the payloads', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', aggregate: 'collect' });
    expectRun(node, input.slice(0, 2), [[20, res(null, 0, 10, 2, input.slice(0, 2)), '|']]);
  });

  it('a user reduce folds each window from its initial value (a copy per window)', () => {
    const node = eventtime.tumblingWindow({
      size: 10,
      timeField: 't',
      reduce: (acc: { n: number; top: number }, p: { v: number }) => ({ n: acc.n + 1, top: Math.max(acc.top, p.v) }),
      initial: { n: 0, top: -Infinity },
    });
    expectRun(
      node,
      [bet(1, 'x', 4), bet(2, 'x', 9), bet(12, 'x', 1)],
      [
        [20, res(null, 0, 10, 2, { n: 2, top: 9 })],
        [30, res(null, 10, 20, 1, { n: 1, top: 1 }), '|'],
      ],
    );
  });

  it('a collect window holds at most maxItems: the next event is an error event naming the node and the limit, not added', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', aggregate: 'collect', field: 'v', maxItems: 2 });
    const ctx = expectRun(
      node,
      [bet(1, 'x', 1), bet(2, 'x', 2), bet(3, 'x', 3)],
      [
        [20, { error: "node 'w'" }],
        [30, res(null, 0, 10, 2, [1, 2]), '|'],
      ],
    );
    expect(ctx.stats.errors).toBe(1);
  });

  it('a value that is not a number is an error event naming node, option and field; the window goes on without it', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', aggregate: 'sum', field: 'v' });
    const { errors, results } = direct(node, [bet(1, 'x', 2), { t: 2, v: 'lots' }]);
    expect(errors).toEqual([`node 'w': option 'field': payload field 'v' must be a number for sum, got "lots"`]);
    expect(results).toEqual([res(null, 0, 10, 1, 2)]);
  });

  it('hopping: a bad value changes no window (checked before the first)', () => {
    const node = eventtime.hoppingWindow({ size: 10, advance: 5, timeField: 't', aggregate: 'max', field: 'v' });
    const { errors, results } = direct(node, [bet(7, 'x', 4), { t: 8, v: null }]);
    expect(errors).toHaveLength(1);
    expect(results).toEqual([res(null, 0, 10, 1, 4), res(null, 5, 15, 1, 4)]);
  });

  it('hopping: an event goes into all of its windows or none (a full collect window, a reduce failing for one window)', () => {
    // t=3 is in [-5,5) and [0,10); t=7 in [0,10) and [5,15). With maxItems 2, [0,10) is full after
    // t=3 and t=6: t=7 fits [5,15) but not [0,10), so it must go into neither.
    const collect = eventtime.hoppingWindow({ size: 10, advance: 5, timeField: 't', aggregate: 'collect', field: 'v', maxItems: 2 });
    const c = direct(collect, [bet(3, 'x', 1), bet(6, 'x', 2), bet(7, 'x', 3)]);
    expect(c.errors).toEqual([expect.stringContaining('a collect window holds at most maxItems=2 values')]);
    expect(c.results).toEqual([res(null, -5, 5, 1, [1]), res(null, 0, 10, 2, [1, 2]), res(null, 5, 15, 1, [2])]);
    // A reduce that refuses a third event in a window: [0,10) refuses t=7; [5,15) has room.
    const reduce = eventtime.hoppingWindow({
      size: 10,
      advance: 5,
      timeField: 't',
      aggregate: 'reduce',
      initial: 0,
      reduce: (n: number, p: { v: number }) => {
        if (n >= 3) throw new Error('at most 3');
        return n + p.v;
      },
    });
    const r = direct(reduce, [bet(3, 'x', 1), bet(6, 'x', 2), bet(7, 'x', 3)]);
    expect(r.errors).toEqual(['at most 3']);
    expect(r.results).toEqual([res(null, -5, 5, 1, 1), res(null, 0, 10, 2, 3), res(null, 5, 15, 1, 2)]);
  });

  it('sliding by count: each event gets the aggregate of its key over its last count events', () => {
    const node = eventtime.slidingWindow({ count: 2, timeField: 't', key: 'k', aggregate: 'sum', field: 'v', maxOutOfOrderness: 5 });
    // 6 arrives after 8 (out of order): the windows follow event time.
    const { results } = direct(node, [bet(1, 'x', 1), bet(8, 'x', 8), bet(6, 'x', 6), bet(3, 'y', 3), bet(9, 'x', 9)]);
    expect(results).toEqual([
      res('x', 1, 1, 1, 1),
      res('y', 3, 3, 1, 3),
      res('x', 1, 6, 2, 7),
      res('x', 6, 8, 2, 14),
      res('x', 8, 9, 2, 17),
    ]);
  });

  it('sliding: a reduce that throws makes that result an error event; the window goes on', () => {
    const node = eventtime.slidingWindow({
      duration: 10,
      timeField: 't',
      reduce: (acc: number, p: { v: number }) => {
        if (p.v < 0) throw new Error('negative stake');
        return acc + p.v;
      },
      initial: 0,
    });
    const { errors, results } = direct(node, [bet(1, 'x', 1), bet(2, 'x', -1), bet(30, 'x', 5)]);
    expect(errors).toEqual(['negative stake']);
    expect(results).toEqual([res(null, -9, 1, 1, 1), res(null, 20, 30, 1, 5)]);
  });
});

describe('event time and keys', () => {
  it.each([
    ['s', [{ at: 0.5 }, { at: 1.2 }], 1000],
    ['iso', [{ at: '2026-11-28T10:00:00.500Z' }, { at: '2026-11-28T10:00:01.200Z' }], Date.parse('2026-11-28T10:00:00Z')],
    ['ms', [{ at: 500 }, { at: 1200 }], 0],
  ])('timeUnit %s reads the time field in that unit', (timeUnit, payloads, start) => {
    const node = eventtime.tumblingWindow({ size: '1s', timeField: 'at', timeUnit: timeUnit as 's' });
    const base = timeUnit === 'iso' ? start : 0;
    expectRun(node, payloads, [
      [10, res(null, base, base + 1000, 1)],
      [20, res(null, base + 1000, base + 2000, 1), '|'],
    ]);
  });

  it('without timeField the event metadata time is the event time', () => {
    // payloads wrapped at their arrival frame: meta.time = 0, 10, 20.
    const node = eventtime.tumblingWindow({ size: 15 });
    expectRun(
      node,
      ['a', 'b', 'c'],
      [
        [20, res(null, 0, 15, 2)],
        [30, res(null, 15, 30, 1), '|'],
      ],
    );
  });

  it('a missing or unreadable time is an error event naming node, option and field', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 'at', timeUnit: 'iso' });
    const { errors } = direct(node, [{ at: 'yesterday' }, {}]);
    expect(errors).toEqual([
      `node 'w': option 'timeField': payload field 'at' must be an ISO-8601 date-time string (timeUnit "iso"), got "yesterday"`,
      `node 'w': option 'timeField': payload field 'at' must be an ISO-8601 date-time string (timeUnit "iso"), got nothing`,
    ]);
  });

  it('a key function groups by what it returns; keys may be numbers or objects', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', key: (p: { v: number }) => ({ odd: p.v % 2 === 1 }) });
    expectRun(
      node,
      [bet(1, 'x', 1), bet(2, 'x', 2), bet(3, 'x', 3)],
      [[30, res({ odd: true }, 0, 10, 2), res({ odd: false }, 0, 10, 1), '|']],
    );
  });

  it('a key path missing from a payload is an error event; a nested path works', () => {
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'who.id' });
    const ctx = expectRun(
      node,
      [
        { t: 1, who: { id: 7 } },
        { t: 2, who: {} },
      ],
      [
        [10, { error: "node 'w'" }],
        [20, res(7, 0, 10, 1), '|'],
      ],
    );
    expect(ctx.stats.errors).toBe(1);
  });
});

describe('watermark progress', () => {
  it('an idle input stalls the watermark without idleTimeout: nothing fires', () => {
    const node = eventtime.tumblingWindow({ size: 100, timeField: 't' });
    expectRun(node, [bet(10), bet(30)], [], false);
  });

  it('with idleTimeout the watermark follows the clock once the input is idle, so windows fire; later events may be late', () => {
    const node = eventtime.tumblingWindow({ size: 100, timeField: 't', idleTimeout: 50 });
    // Last event at frame 10 (t 30): idle from frame 60, when the watermark is 30 + 50 = 80;
    // it reaches 100 at frame 80 and [0,100) fires. c (t 90, frame 100) is then late. After d
    // (t 150, frame 110) the input is idle again from 160, when the watermark becomes 200.
    const input = { a: bet(10), b: bet(30), c: bet(90), d: bet(150) };
    const out = steps([
      [80, res(null, 0, 100, 2)],
      [100, LATE],
      [160, res(null, 100, 200, 1)],
      [200, '|'],
    ]);
    marbles(node, ({ cold, expectObservable }, op) => {
      expectObservable(cold('a 9ms b 89ms c 9ms d 89ms |', input).pipe(op)).toBe(out.marble, out.values);
    });
  });

  it('while events keep coming the input is not idle: the window fires only idleTimeout after the last one', () => {
    const node = eventtime.tumblingWindow({ size: 100, timeField: 't', idleTimeout: 50 });
    // Events every 10 ms (last at frame 40, t 50): idle at 90, watermark 50 + 50 = 100.
    expectRun(node, [bet(10), bet(20), bet(30), bet(40), bet(50)], [[90, res(null, 0, 100, 5)]], false);
  });

  it('processing time: windows follow the scheduler and fire on a timer at their end', () => {
    const node = eventtime.tumblingWindow({ size: 10, time: 'processing' });
    marbles(node, ({ cold, expectObservable }, op) => {
      expectObservable(cold('--a---b----c-----', { a: 'a', b: 'b', c: 'c' }).pipe(op), '^ 29ms !').toBe(' 10ms A 9ms B', {
        A: res(null, 0, 10, 2),
        B: res(null, 10, 20, 1),
      });
    });
  });

  it('processing time, keyed sessions: each key closes gap after its last event', () => {
    const node = eventtime.sessionWindow({ gap: 5, time: 'processing', key: 'k' });
    marbles(node, ({ cold, expectObservable }, op) => {
      // x at 0 and 5: sessions are [first, last + gap), so 5 starts a new one as [0,5) closes.
      const out = steps([
        [5, res('x', 0, 5, 1)],
        [7, res('y', 2, 7, 1)],
        [10, res('x', 5, 10, 1)],
        [12, '|'],
      ]);
      expectObservable(cold('a-b--a------|', { a: { k: 'x' }, b: { k: 'y' } }).pipe(op)).toBe(out.marble, out.values);
    });
  });

  it('reports late events, open windows and the watermark as gauges', () => {
    const gauges = new Map<string, () => number>();
    const probe: NodeProbe = {
      sample: () => undefined,
      gauge: (n, _h, read) => void gauges.set(n, read),
      error: () => undefined,
      finished: () => undefined,
    };
    const node = eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'k' });
    const t = new TestScheduler(() => undefined);
    const ctx = createNodeContext('w', { scheduler: t, probe });
    const input = new Subject<Event>();
    if (node.role !== 'pipeline') throw new Error();
    node.create(ctx)(input).subscribe();
    input.next(createEvent(bet(12, 'x')));
    input.next(createEvent(bet(15, 'y')));
    input.next(createEvent(bet(3, 'x')));
    expect([gauges.get('late_events')!(), gauges.get('open_windows')!(), gauges.get('watermark_ms')!()]).toEqual([1, 2, 15]);
  });
});

describe('options', () => {
  it.each<[string, () => unknown, RegExp]>([
    [
      'hopping advance > size',
      () => eventtime.hoppingWindow({ size: 5, advance: 10 }),
      /'hopping_window': option 'advance' \(10ms\) must be at most 'size'/,
    ],
    ['sliding with neither', () => eventtime.slidingWindow({}), /'sliding_window': give option 'duration' or option 'count'/],
    ['sliding with both', () => eventtime.slidingWindow({ duration: 5, count: 3 }), /one of them/],
    ['session reduce without merge', () => eventtime.sessionWindow({ gap: 5, reduce: (a: number) => a }), /needs option 'merge'/],
    [
      'reduce with another aggregate',
      () => eventtime.tumblingWindow({ size: 5, aggregate: 'sum', reduce: (a: number) => a }),
      /option 'reduce' goes with aggregate 'reduce'/,
    ],
    ['reduce aggregate without reduce', () => eventtime.tumblingWindow({ size: 5, aggregate: 'reduce' }), /needs option 'reduce'/],
    ['field with count', () => eventtime.tumblingWindow({ size: 5, field: 'v' }), /option 'field' is for sum/],
    [
      'timeField with processing time',
      () => eventtime.tumblingWindow({ size: 5, time: 'processing', timeField: 't' }),
      /option 'timeField' is for event time/,
    ],
    [
      'a bad time unit',
      () => eventtime.tumblingWindow({ size: 5, timeUnit: 'sec' as 's' }),
      /option 'timeUnit' must be one of "ms", "s", "iso"/,
    ],
    [
      'a misspelt option',
      () => eventtime.tumblingWindow({ size: 5, allowedLatenes: 5 } as never),
      /unknown option 'allowedLatenes'.*did you mean 'allowedLateness'/,
    ],
    [
      'a key that is neither path nor function',
      () => eventtime.tumblingWindow({ size: 5, key: 3 as never }),
      /option 'key' must be a payload path or a function/,
    ],
  ])('%s is refused naming the kind and option', (_, make, message) => {
    expect(make).toThrow(TributaryError);
    expect(make).toThrow(message);
  });
});

describe.each<[string, NodeSpec, Step[]]>([
  ['tumbling_window', eventtime.tumblingWindow({ size: 100, timeField: 't', idleTimeout: 50 }), [[90, res(null, 0, 100, 1)]]],
  [
    'hopping_window',
    eventtime.hoppingWindow({ size: 100, advance: 50, timeField: 't', idleTimeout: 50 }),
    [
      [50, res(null, -50, 50, 1)],
      [90, res(null, 0, 100, 1)],
    ],
  ],
  ['sliding_window', eventtime.slidingWindow({ duration: 100, timeField: 't', idleTimeout: 50 }), [[50, res(null, -90, 10, 1)]]],
  ['session_window', eventtime.sessionWindow({ gap: 20, timeField: 't', idleTimeout: 50 }), [[50, res(null, 10, 30, 1)]]],
])('%s on an input that goes idle after one event (t 10 at frame 0, idleTimeout 50)', (_, node, expected) => {
  it('fires once the idle watermark (10 + time since the event) passes the window', () => {
    const out = steps(expected);
    marbles(node, ({ cold, expectObservable }, op) => {
      expectObservable(cold('a', { a: bet(10) }).pipe(op), '^ 199ms !').toBe(out.marble, out.values);
    });
  });
});

describe('processing time, other kinds', () => {
  it('sliding: every event gets its result at once, over the last duration of arrival time', () => {
    const node = eventtime.slidingWindow({ duration: 5, time: 'processing', key: 'k' });
    const out = steps([
      [0, res('x', -5, 0, 1)],
      [3, res('x', -2, 3, 2)],
      [9, res('x', 4, 9, 1)],
    ]);
    marbles(node, ({ cold, expectObservable }, op) => {
      expectObservable(cold('a--a-----a', { a: { k: 'x' } }).pipe(op)).toBe(out.marble, out.values);
    });
  });

  it('hopping: windows fire on timers at their ends', () => {
    const node = eventtime.hoppingWindow({ size: 10, advance: 5, time: 'processing' });
    const out = steps([
      [5, res(null, -5, 5, 1)],
      [10, res(null, 0, 10, 2)],
      [15, res(null, 5, 15, 1)],
    ]);
    marbles(node, ({ cold, expectObservable }, op) => {
      expectObservable(cold('--a----a', { a: 'a' }).pipe(op), '^ 19ms !').toBe(out.marble, out.values);
    });
  });
});
