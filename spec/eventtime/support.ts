/**
 * Helpers for the event-time window specs: a TestScheduler comparing with Jest, a node run as
 * an operator on it (with a probe context whose counters and logs the test reads), payload
 * builders, and `timeline`, which writes the marble string of emissions at given frames (so a
 * group `(ab)` taking 4 frames never shifts what follows).
 */
import { map, type Observable, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createEvent, createNodeContext, emptyStats, type Event, type NodeContext, type NodeSpec, type NodeStats } from 'tributary';
import type { WindowResult } from '../../lib/eventtime';

export type Helpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

/** An input payload: event time `t` (ms), key `k`, value `v`. */
export interface Bet {
  t: number;
  k: string;
  v: number;
}
export const bet = (t: number, k = 'x', v = 1): Bet => ({ t, k, v });

/** An expected result. */
export const res = (key: unknown, start: number, end: number, count: number, value: unknown = count): WindowResult => ({
  key,
  start,
  end,
  count,
  value,
});

/** What a marble expectation sees: the payload, or `{ error }` for an error event. */
export const view = map((e: Event) => (e.error ? { error: e.error.message.replace(/:.*/, '') } : e.payload));

/** Emissions at frames → a marble string: `timeline([3, 'a', 'b'], [9, 'c', '|'])` is `3ms (ab) 2ms c|`-like. */
export function timeline(...steps: [number, ...string[]][]): string {
  let s = '';
  let frame = 0;
  for (const [at, ...marks] of steps) {
    if (at < frame) throw new Error(`timeline: frame ${at} is taken by the group before it (next free frame ${frame})`);
    if (at > frame) s += ` ${at - frame}ms `;
    const body = marks.join('');
    s += marks.length === 1 ? body : `(${body})`;
    frame = at + (marks.length === 1 ? 1 : body.length + 2);
  }
  return s;
}

/** A probe context recording warnings and errors. */
export function context(name: string, scheduler: TestScheduler): NodeContext & { stats: NodeStats; warnings: string[] } {
  const warnings: string[] = [];
  const stats = emptyStats();
  const ctx = createNodeContext(name, {
    scheduler,
    stats,
    logger: { warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
  });
  return Object.assign(ctx, { warnings });
}

/** Runs `body` under a fresh TestScheduler with the node as an operator over payloads (wrapped into events). */
export function marbles(
  node: NodeSpec,
  body: (h: Helpers, op: OperatorFunction<unknown, unknown>, ctx: ReturnType<typeof context>) => void,
  name = 'w',
): ReturnType<typeof context> {
  const t = new TestScheduler((a, b) => expect(a).toEqual(b));
  const ctx = context(name, t);
  if (node.role !== 'pipeline') throw new Error('a pipeline');
  t.run((h) => {
    const inner = node.create(ctx);
    const op: OperatorFunction<unknown, unknown> = (src: Observable<unknown>) =>
      inner(src.pipe(map((p) => createEvent(p, { time: t.now() })))).pipe(view);
    body(h, op, ctx);
  });
  return ctx;
}

/** One frame of expected output: the frame, then values (or `'|'` for completion). */
export type Step = [number, ...unknown[]];

/** Steps → the marble string and its values (letters assigned in order). */
export function steps(list: Step[]): { marble: string; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  let next = 0;
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const marks = list.map(([frame, ...items]) => {
    const ms = items.map((item) => {
      if (item === '|') return '|';
      const letter = letters[next++];
      values[letter] = item;
      return letter;
    });
    return [frame, ...ms] as [number, ...string[]];
  });
  return { marble: timeline(...marks), values };
}

/** Payloads at frames 0, 10, 20 … (then completion 10 later, unless `complete` is false) as a marble string and values. */
export function spaced(payloads: unknown[], complete = true): { marble: string; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  const marks: [number, ...string[]][] = payloads.map((p, i) => {
    const letter = 'abcdefghijklmnopqrstuvwxyz'[i];
    values[letter] = p;
    return [i * 10, letter];
  });
  if (complete) marks.push([payloads.length * 10, '|']);
  return { marble: marks.length ? timeline(...marks) : '', values };
}
