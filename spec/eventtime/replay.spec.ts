/**
 * Replay: a seeded stream of 100 000 bets whose arrival order is shuffled within a bound
 * (each arrives at most DISORDER ms of event time after a later one) goes through an
 * event-time hopping window with maxOutOfOrderness = DISORDER. Its results must be exactly
 * what a plain batch computation over all bets gives — and the same as replaying the bets in
 * time order. Nothing may be late.
 */
import { Subject } from 'rxjs';
import { createNodeContext, type Event, createEvent } from 'tributary';
import { eventtime, type WindowResult } from '../../lib/eventtime';

const N = 100_000;
const CUSTOMERS = 700;
const SIZE = 60_000;
const ADVANCE = 15_000;
const DISORDER = 20_000;

/** mulberry32: a small seeded generator, so the stream is the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface PlacedBet {
  customer: string;
  stake: number;
  placed_at: number;
}

/** Bets in event-time order, and the same bets in a bounded-disorder arrival order. */
function stream(seed: number): { ordered: PlacedBet[]; arrival: PlacedBet[] } {
  const rnd = seeded(seed);
  const ordered: PlacedBet[] = [];
  let t = Date.parse('2026-11-28T00:00:00Z');
  for (let i = 0; i < N; i++) {
    t += Math.floor(rnd() * 40); // about 25 bets a second, some at the same ms
    ordered.push({ customer: `c${Math.floor(rnd() * CUSTOMERS)}`, stake: 1 + Math.floor(rnd() * 100), placed_at: t });
  }
  // Each bet arrives when a clock reaches placed_at + a delay in [0, DISORDER]: anything that
  // arrives after it has a time at least placed_at − DISORDER… i.e. disorder stays bounded.
  const arrival = ordered
    .map((b, i) => ({ b, at: b.placed_at + Math.floor(rnd() * DISORDER), i }))
    .sort((x, y) => x.at - y.at || x.i - y.i)
    .map((x) => x.b);
  return { ordered, arrival };
}

/** The reference: every hopping window of every customer, summed directly. */
function reference(bets: PlacedBet[]): string[] {
  const sums = new Map<string, WindowResult>();
  for (const b of bets) {
    for (let s = Math.floor(b.placed_at / ADVANCE) * ADVANCE; s > b.placed_at - SIZE; s -= ADVANCE) {
      const id = `${b.customer}|${s}`;
      let r = sums.get(id);
      if (!r) sums.set(id, (r = { key: b.customer, start: s, end: s + SIZE, count: 0, value: 0 }));
      r.count++;
      (r.value as number) += b.stake;
    }
  }
  return sorted([...sums.values()]);
}

/** Results as sorted lines (`key start end count value`): fast to compare, and a diff reads well. */
function sorted(results: WindowResult[]): string[] {
  return results.map((r) => `${String(r.key)} ${r.start} ${r.end} ${r.count} ${String(r.value)}`).sort();
}

function run(bets: PlacedBet[]): { results: WindowResult[]; errors: number } {
  const node = eventtime.hoppingWindow({
    size: SIZE,
    advance: ADVANCE,
    key: 'customer',
    aggregate: 'sum',
    field: 'stake',
    timeField: 'placed_at',
    maxOutOfOrderness: DISORDER,
  });
  if (node.role !== 'pipeline') throw new Error('pipeline');
  const ctx = createNodeContext('replay');
  const input = new Subject<Event>();
  const results: WindowResult[] = [];
  let errors = 0;
  node
    .create(ctx)(input)
    .subscribe((e) => {
      if (e.error) errors++;
      else results.push(e.payload as WindowResult);
    });
  for (const b of bets) input.next(createEvent(b));
  input.complete();
  return { results, errors };
}

describe('replay of 100k out-of-order bets through an event-time hopping window', () => {
  const { ordered, arrival } = stream(20261128);

  it('the stream really is out of order, within the bound', () => {
    let maxT = -Infinity;
    let behind = 0;
    let worst = 0;
    for (const b of arrival) {
      if (b.placed_at < maxT) {
        behind++;
        worst = Math.max(worst, maxT - b.placed_at);
      }
      maxT = Math.max(maxT, b.placed_at);
    }
    expect(behind).toBeGreaterThan(N / 2);
    expect(worst).toBeLessThanOrEqual(DISORDER);
    expect(worst).toBeGreaterThan(DISORDER / 2);
  });

  it('gives exactly the results of the reference computation, none late, each window once', () => {
    const { results, errors } = run(arrival);
    expect(errors).toBe(0);
    const expected = reference(ordered);
    expect(expected.length).toBeGreaterThan(50_000);
    expect(sorted(results)).toEqual(expected);
  });

  it('gives the same results as replaying the bets in event-time order', () => {
    expect(sorted(run(arrival).results)).toEqual(sorted(run(ordered).results));
  });
});
