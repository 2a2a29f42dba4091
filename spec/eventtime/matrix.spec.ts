/**
 * Every window type × keyed/unkeyed × no events / one / many on time / out of order / late /
 * never-ending input / early unsubscribe, on virtual time. Inputs arrive 10 ms apart (frames
 * 0, 10, 20 …) carrying their event time `t`; the expected results say at which frame each
 * window's result goes out, so the watermark's progress is what is tested.
 */
import type { NodeSpec } from 'tributary';
import { eventtime } from '../../lib/eventtime';
import { bet, marbles, res, spaced, steps, type Step } from './support';

const LATE = { error: 'late event' };

type Scenario = 'one' | 'many' | 'outOfOrder' | 'late';

const inputs: Record<Scenario, { payloads: unknown[]; maxOutOfOrderness?: number }> = {
  one: { payloads: [bet(3)] },
  many: { payloads: [bet(1, 'x'), bet(4, 'y'), bet(12, 'x'), bet(25, 'y')] },
  outOfOrder: { payloads: [bet(12, 'x'), bet(3, 'x'), bet(8, 'y'), bet(25, 'x')], maxOutOfOrderness: 10 },
  late: { payloads: [bet(12, 'x'), bet(3, 'x'), bet(15, 'y')] },
};

interface Kind {
  name: string;
  make: (o: Record<string, unknown>) => NodeSpec;
  /** Expected output per scenario, keyed (k) and unkeyed (u). */
  expected: Record<Scenario, { k: Step[]; u: Step[] }>;
}

const kinds: Kind[] = [
  {
    name: 'tumbling_window (size 10)',
    make: (o) => eventtime.tumblingWindow({ size: 10, ...o }),
    expected: {
      one: { k: [[10, res('x', 0, 10, 1), '|']], u: [[10, res(null, 0, 10, 1), '|']] },
      many: {
        k: [
          [20, res('x', 0, 10, 1), res('y', 0, 10, 1)],
          [30, res('x', 10, 20, 1)],
          [40, res('y', 20, 30, 1), '|'],
        ],
        u: [
          [20, res(null, 0, 10, 2)],
          [30, res(null, 10, 20, 1)],
          [40, res(null, 20, 30, 1), '|'],
        ],
      },
      outOfOrder: {
        k: [
          [30, res('x', 0, 10, 1), res('y', 0, 10, 1)],
          [40, res('x', 10, 20, 1), res('x', 20, 30, 1), '|'],
        ],
        u: [
          [30, res(null, 0, 10, 2)],
          [40, res(null, 10, 20, 1), res(null, 20, 30, 1), '|'],
        ],
      },
      late: {
        k: [
          [10, LATE],
          [30, res('x', 10, 20, 1), res('y', 10, 20, 1), '|'],
        ],
        u: [
          [10, LATE],
          [30, res(null, 10, 20, 2), '|'],
        ],
      },
    },
  },
  {
    name: 'hopping_window (size 10, advance 5)',
    make: (o) => eventtime.hoppingWindow({ size: 10, advance: 5, ...o }),
    expected: {
      one: { k: [[10, res('x', -5, 5, 1), res('x', 0, 10, 1), '|']], u: [[10, res(null, -5, 5, 1), res(null, 0, 10, 1), '|']] },
      many: {
        k: [
          [20, res('x', -5, 5, 1), res('y', -5, 5, 1), res('x', 0, 10, 1), res('y', 0, 10, 1)],
          [30, res('x', 5, 15, 1), res('x', 10, 20, 1)],
          [40, res('y', 20, 30, 1), res('y', 25, 35, 1), '|'],
        ],
        u: [
          [20, res(null, -5, 5, 2), res(null, 0, 10, 2)],
          [30, res(null, 5, 15, 1), res(null, 10, 20, 1)],
          [40, res(null, 20, 30, 1), res(null, 25, 35, 1), '|'],
        ],
      },
      outOfOrder: {
        k: [
          [30, res('x', -5, 5, 1), res('x', 0, 10, 1), res('y', 0, 10, 1), res('x', 5, 15, 1), res('y', 5, 15, 1)],
          [40, res('x', 10, 20, 1), res('x', 20, 30, 1), res('x', 25, 35, 1), '|'],
        ],
        u: [
          [30, res(null, -5, 5, 1), res(null, 0, 10, 2), res(null, 5, 15, 2)],
          [40, res(null, 10, 20, 1), res(null, 20, 30, 1), res(null, 25, 35, 1), '|'],
        ],
      },
      late: {
        k: [
          [10, LATE],
          [20, res('x', 5, 15, 1)],
          [30, res('x', 10, 20, 1), res('y', 10, 20, 1), res('y', 15, 25, 1), '|'],
        ],
        u: [
          [10, LATE],
          [20, res(null, 5, 15, 1)],
          [30, res(null, 10, 20, 2), res(null, 15, 25, 1), '|'],
        ],
      },
    },
  },
  {
    name: 'sliding_window (duration 10)',
    make: (o) => eventtime.slidingWindow({ duration: 10, ...o }),
    expected: {
      one: { k: [[10, res('x', -7, 3, 1), '|']], u: [[10, res(null, -7, 3, 1), '|']] },
      many: {
        k: [
          [10, res('x', -9, 1, 1)],
          [20, res('y', -6, 4, 1)],
          [30, res('x', 2, 12, 1)],
          [40, res('y', 15, 25, 1), '|'],
        ],
        u: [
          [10, res(null, -9, 1, 1)],
          [20, res(null, -6, 4, 2)],
          [30, res(null, 2, 12, 2)],
          [40, res(null, 15, 25, 1), '|'],
        ],
      },
      outOfOrder: {
        k: [
          [30, res('x', -7, 3, 1), res('y', -2, 8, 1), res('x', 2, 12, 2)],
          [40, res('x', 15, 25, 1), '|'],
        ],
        u: [
          [30, res(null, -7, 3, 1), res(null, -2, 8, 2), res(null, 2, 12, 3)],
          [40, res(null, 15, 25, 1), '|'],
        ],
      },
      late: {
        k: [
          [10, LATE],
          [20, res('x', 2, 12, 1)],
          [30, res('y', 5, 15, 1), '|'],
        ],
        u: [
          [10, LATE],
          [20, res(null, 2, 12, 1)],
          [30, res(null, 5, 15, 2), '|'],
        ],
      },
    },
  },
  {
    name: 'session_window (gap 5)',
    make: (o) => eventtime.sessionWindow({ gap: 5, ...o }),
    expected: {
      one: { k: [[10, res('x', 3, 8, 1), '|']], u: [[10, res(null, 3, 8, 1), '|']] },
      many: {
        k: [
          [20, res('x', 1, 6, 1), res('y', 4, 9, 1)],
          [30, res('x', 12, 17, 1)],
          [40, res('y', 25, 30, 1), '|'],
        ],
        u: [
          [20, res(null, 1, 9, 2)],
          [30, res(null, 12, 17, 1)],
          [40, res(null, 25, 30, 1), '|'],
        ],
      },
      outOfOrder: {
        k: [
          [30, res('x', 3, 8, 1), res('y', 8, 13, 1)],
          [40, res('x', 12, 17, 1), res('x', 25, 30, 1), '|'],
        ],
        u: [
          [30, res(null, 3, 8, 1)],
          [40, res(null, 8, 17, 2), res(null, 25, 30, 1), '|'],
        ],
      },
      late: {
        k: [
          [10, LATE],
          [30, res('x', 12, 17, 1), res('y', 15, 20, 1), '|'],
        ],
        u: [
          [10, LATE],
          [30, res(null, 12, 20, 2), '|'],
        ],
      },
    },
  },
];

describe.each(kinds)('$name', (kind) => {
  describe.each([
    ['keyed', 'k' as const, { key: 'k' }],
    ['unkeyed', 'u' as const, {}],
  ])('%s', (_, variant, keyOption) => {
    const node = (extra: Record<string, unknown> = {}) => kind.make({ timeField: 't', ...keyOption, ...extra });

    it('no events: completes with nothing emitted', () => {
      marbles(node(), ({ cold, expectObservable }, op) => {
        expectObservable(cold(' 30ms |').pipe(op)).toBe(' 30ms |');
      });
    });

    it.each<[Scenario, string]>([
      ['one', 'one event: fires when the input ends (watermark to +∞)'],
      ['many', 'many events in order: each window fires when the watermark passes its end'],
      ['outOfOrder', 'out-of-order events within maxOutOfOrderness: same windows as in order, fired by the lagging watermark'],
      ['late', 'a late event goes out as a late-event error; the others are windowed'],
    ])('%s — %s', (scenario) => {
      const input = spaced(inputs[scenario].payloads);
      const out = steps(kind.expected[scenario][variant]);
      const ctx = marbles(node({ maxOutOfOrderness: inputs[scenario].maxOutOfOrderness ?? 0 }), ({ cold, expectObservable }, op) => {
        expectObservable(cold(input.marble, input.values).pipe(op)).toBe(out.marble, out.values);
      });
      expect(ctx.stats.errors).toBe(scenario === 'late' ? 1 : 0);
    });

    it('never-ending input: windows fire as the watermark moves; nothing more, no completion', () => {
      const input = spaced(inputs.many.payloads, false);
      const out = steps(kind.expected.many[variant].filter(([frame]) => frame < 40));
      marbles(node(), ({ cold, expectObservable }, op) => {
        expectObservable(cold(input.marble, input.values).pipe(op)).toBe(out.marble, out.values);
      });
    });

    it('early unsubscribe: stops emitting and unsubscribes from its input', () => {
      const input = spaced(inputs.many.payloads);
      const out = steps(kind.expected.many[variant].filter(([frame]) => frame < 25));
      marbles(node(), ({ cold, expectObservable, expectSubscriptions }, op) => {
        const source = cold(input.marble, input.values);
        expectObservable(source.pipe(op), '^ 24ms !').toBe(out.marble, out.values);
        expectSubscriptions(source.subscriptions).toBe('^ 24ms !');
      });
    });
  });
});
