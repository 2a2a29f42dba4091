import { marbles } from 'rxjs-marbles/jest';
import { Network, nodes } from 'tributary';
import { compareFrames, DeliveryProbe, luaScenario, marks, sameValue, VirtualClock, VirtualTime } from 'tributary/testing';

describe('marks', () => {
  it('parses run-mode marbles (1 ms per character, time progressions, groups) inside or outside a run', () => {
    expect(marks('a 999ms (bc)|', { a: 1, b: 2, c: 3 })).toEqual([
      { frame: 0, kind: 'next', value: 1 },
      { frame: 1000, kind: 'next', value: 2 },
      { frame: 1000, kind: 'next', value: 3 },
      { frame: 1004, kind: 'complete' },
    ]);
    expect(marks('-#', undefined, 'bad')).toEqual([{ frame: 1, kind: 'error', error: 'bad' }]);
  });

  it('a letter without a value is an error naming it; without values letters stand for themselves', () => {
    expect(() => marks('-a-t1', { a: 1 })).toThrow("marble 't' in '-a-t1' has no value (values: a)");
    expect(marks('ab', {})).toEqual([
      { frame: 0, kind: 'next', value: 'a' },
      { frame: 1, kind: 'next', value: 'b' },
    ]);
  });
});

describe('sameValue', () => {
  it('ignores key order and undefined keys; distinguishes types, arrays from objects, bytes by content', () => {
    expect(sameValue({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1, d: undefined })).toBe(true);
    expect(sameValue(1, '1')).toBe(false);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameValue(NaN, NaN)).toBe(true);
  });
});

describe('compareFrames', () => {
  it('is undefined when frames and values match', () => {
    expect(compareFrames(marks('-a-b|'), marks('-a-b|'))).toBeUndefined();
  });

  it('names the first differing frame and shows the frames around it, differing ones marked', () => {
    const expected = marks('a-b-c-d-e-f-g-h-i-j', { a: 0, b: 2, c: 4, d: 6, e: 8, f: 10, g: 12, h: 14, i: 16, j: 18 });
    const actual = expected.map((m) => (m.frame === 8 ? { ...m, value: 'eight' } : m)).filter((m) => m.frame !== 14);
    const mismatch = compareFrames(expected, actual)!;
    expect(mismatch.frame).toBe(8);
    expect(mismatch.differing).toBe(2);
    expect(mismatch.message).toBe(
      [
        'first difference at frame 8: expected 8, actual "eight"',
        '    frame  expected  actual',
        '    …      (2 equal frames before)',
        '    4      4         4',
        '    6      6         6',
        '  > 8      8         "eight"',
        '    10     10        10',
        '    12     12        12',
        '  > 14     14        —',
        '    16     16        16',
        '    18     18        18',
      ].join('\n'),
    );
  });

  it('shows completion as | and nothing as —, and counts what lies beyond the table', () => {
    const mismatch = compareFrames(marks('a|'), marks('a-b-c-d-e-f-g-h-i'))!;
    expect(mismatch.message.split('\n').slice(0, 4)).toEqual([
      'first difference at frame 1: expected |, actual nothing',
      '    frame  expected  actual',
      '    0      "a"       "a"',
      '  > 1      |         —',
    ]);
    expect(mismatch.message.split('\n').at(-1)).toBe('    …      (3 more frames, 3 of them different)');
  });

  it("compares lists position by position with unit 'event'", () => {
    const at = (xs: unknown[]) => xs.map((value, i) => ({ frame: i + 1, kind: 'next' as const, value }));
    expect(compareFrames(at([1, 2, 3]), at([1, 2]), 'event')!.message.split('\n')[0]).toBe(
      'first difference at event 3: expected 3, actual nothing',
    );
  });
});

describe('DeliveryProbe', () => {
  it(
    'records acks and nacks with their frame and reason; an expectation subscribed later in the same frame still sees them',
    marbles((m) => {
      const deliveries = new DeliveryProbe<string>(m.scheduler);
      const a = deliveries.event('a');
      a.delivery!.ack(); // frame 0, before any expectation subscribed
      m.scheduler.schedule(() => deliveries.event('b').delivery!.nack(new Error('sink down')), 5);
      m.expect(deliveries.acks).toBeObservable('a');
      m.expect(deliveries.nacks).toBeObservable('-----b');
      m.flush();
      expect(deliveries.log).toEqual([
        { frame: 0, payload: 'a', acked: true },
        { frame: 5, payload: 'b', acked: false, reason: new Error('sink down') },
      ]);
      expect(a.meta.time).toBe(0);
    }),
  );
});

describe('VirtualTime on an rxjs-marbles scheduler', () => {
  it(
    'run() inside a running test says to use start()',
    marbles((m) => {
      const t = new VirtualTime(m.scheduler);
      expect(() => t.run(new Network({ scheduler: m.scheduler }), '1s')).toThrow(/already running.*t\.start\(net, duration\)/);
    }),
  );

  it(
    "a sink's payloads replay what arrived earlier in the frame the expectation subscribes in",
    marbles((m) => {
      const t = new VirtualTime(m.scheduler);
      const out = t.sink();
      const net = new Network({ scheduler: m.scheduler });
      net.add('in', nodes.from({ items: [1, 2] })); // synchronous: both arrive during start, at frame 0
      net.add('out', out.node);
      net.link('in', 'out');
      t.start(net);
      m.expect(out.payloads).toBeObservable('(ab|)', { a: 1, b: 2 });
    }),
  );

  it('expectFrames throws the frame-by-frame diff', () => {
    const t = new VirtualTime();
    const out = t.sink();
    const net = new Network({ scheduler: t.scheduler });
    net.add('in', t.source('-a-b|', { a: 1, b: 2 }));
    net.add('out', out.node);
    net.link('in', 'out');
    t.run(net, '10ms');
    expect(() => t.expectFrames(out, '-a--b|', { a: 1, b: 2 })).toThrow(
      'expectFrames: first difference at frame 3: expected nothing, actual 2',
    );
  });
});

describe('VirtualClock', () => {
  it(
    'refuses to run inside an rxjs-marbles test, saying where it works',
    marbles((m) => {
      const clock = new VirtualClock(m.scheduler, { idle: () => Promise.resolve() });
      return expect(clock.start(new Network({ scheduler: m.scheduler }))).rejects.toThrow(
        /cannot run inside TestScheduler\.run.*async test/,
      );
    }),
  );
});

describe('luaScenario', () => {
  it(
    'takes observable inputs and starts on the marbles scheduler; the script reads the virtual clock and a seeded math.random',
    marbles((m) => {
      const source = `local tb = require('tributary')
        tb.create_ticker("in", "1s")
        tb.create_map("stamp", function(n) return { n = n, t = os.time(), c = os.clock(), r = math.random(1000) } end)
        tb.create_sink("out", function(p) end)
        tb.link("in", "stamp") tb.link("stamp", "out")`;
      const s = luaScenario({
        source,
        time: new VirtualTime(m.scheduler),
        inputs: { in: m.cold('2s a 499ms b|', { a: 1, b: 2 }) },
        seed: 7,
      });
      s.start();
      m.flush();
      const seen = s.sinks.out.frames.map((f) => ({ frame: f.frame, ...(f.value as { r: number }) }));
      expect(seen).toEqual([
        { frame: 2000, n: 1, t: 2, c: 2, r: expect.any(Number) },
        { frame: 2500, n: 2, t: 2, c: 2.5, r: expect.any(Number) },
      ]);
      // the same seed, the same numbers
      const again = luaScenario({ source, inputs: { in: '2s a 499ms b|' }, seed: 7 });
      again.run('3s');
      expect(again.sinks.out.frames.map((f) => (f.value as { r: number }).r)).toEqual(seen.map((x) => x.r));
      expect(s.runtime.closed).toBe(false); // closed once the network has stopped (a microtask later)
    }),
  );
});
