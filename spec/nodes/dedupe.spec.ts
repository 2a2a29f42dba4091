import { nodes, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, tracked, viewAll } from './support';

const dedupe = (duration: string | number, key?: (p: any) => string) => nodes.dedupe(key ? { duration, key } : { duration });

describe('dedupe', () => {
  const v = events({ a: 'a', b: 'b', c: 'c' });

  it('completes without emitting when no events arrive', () => {
    marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('----|').pipe(op, viewAll)).toBe('----|');
    });
  });

  it('lets the first occurrence of a payload through', () => {
    marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a|', v).pipe(op, viewAll)).toBe('-a|', { a: 'a' });
    });
  });

  it('drops a payload first seen less than the duration ago and lets it through again after', () => {
    const ctx = marblePipeline(dedupe(5), ({ cold, expectObservable }, op) => {
      // a@1 b@3 pass; a@5 and b@7 are repeats within 5; a@9 is 8 after the first a: passes.
      expectObservable(cold('-a-b-a-b-a|', v).pipe(op, viewAll)).toBe('-a-b-----a|', { a: 'a', b: 'b' });
    });
    expect(ctx.stats).toMatchObject({ dropped: 2 });
  });

  it('remembers from the first sighting: repeats do not extend the window, and exactly `duration` later passes', () => {
    marblePipeline(dedupe(4), ({ cold, expectObservable }, op) => {
      expectObservable(cold('a-a-a-a-a|', v).pipe(op, viewAll)).toBe('a---a---a|', { a: 'a' });
    });
  });

  it('compares structured payloads by value', () => {
    const w = events({ p: { stake: 5, customer: 'x' }, q: { stake: 5, customer: 'x' }, r: { stake: 6, customer: 'x' } });
    marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold('pqr|', w).pipe(op, viewAll)).toBe('p-r|', { p: w.p.payload, r: w.r.payload });
    });
  });

  it('does not treat payloads of different types that print the same as duplicates (1 vs "1", null vs "null")', () => {
    const w = events({ n: 1, s: '1', z: null, t: 'null', b: true, c: 'true', u: new TextEncoder().encode('1') });
    marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold('nsztbcu|', w).pipe(op, viewAll)).toBe('nsztbcu|', {
        n: 1,
        s: '1',
        z: null,
        t: 'null',
        b: true,
        c: 'true',
        u: w.u.payload,
      });
    });
  });

  it('uses the key function to decide what is the same', () => {
    const w = events({ a: { customer: 'x', n: 1 }, b: { customer: 'x', n: 2 }, c: { customer: 'y', n: 3 } });
    marblePipeline(
      dedupe('1m', (p) => p.customer),
      ({ cold, expectObservable }, op) => {
        expectObservable(cold('abc|', w).pipe(op, viewAll)).toBe('a-c|', { a: w.a.payload, c: w.c.payload });
      },
    );
  });

  it('turns a throwing key function into an error event naming the node, and keeps going', () => {
    const ctx = marblePipeline(
      dedupe('1m', (p) => {
        if (p === 'b') throw new Error('no key');
        return String(p);
      }),
      ({ cold, expectObservable }, op) => {
        expectObservable(cold('abc|', v).pipe(op, viewAll)).toBe('abc|', { a: 'a', b: { error: 'no key', node: 'once' }, c: 'c' });
      },
      'once',
    );
    expect(ctx.stats.errors).toBe(1);
  });

  it('passes error events through and does not remember their payloads', () => {
    const w = events({ x: errorEvent('a', 'boom'), a: 'a' });
    marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-xa|', w).pipe(op, viewAll)).toBe('-xa|', { x: { error: 'boom', node: 'upstream' }, a: 'a' });
    });
  });

  it('keeps deduplicating an input that never completes', () => {
    marblePipeline(dedupe(3), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a-a-a-a-', v).pipe(op, viewAll)).toBe('-a---a---', { a: 'a' });
    });
  });

  it('unsubscribes from its input when its subscriber unsubscribes early', () => {
    marblePipeline(dedupe(3), ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-|', v);
      expectObservable(input.pipe(op, viewAll), '^--!').toBe('-a-', { a: 'a' });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  it('acks each dropped event exactly once and leaves passed ones to downstream', () => {
    const sent = ['a', 'a', 'b', 'a'].map(tracked);
    const ctx = marblePipeline(dedupe('10s'), ({ cold, expectObservable }, op) => {
      const input = cold('abcd|', { a: sent[0].event, b: sent[1].event, c: sent[2].event, d: sent[3].event });
      expectObservable(input.pipe(op, viewAll)).toBe('a-c-|', { a: 'a', c: 'b' });
    });
    expect(sent.map((s) => s.delivery.calls)).toEqual([[], ['ack'], [], ['ack']]);
    expect(ctx.stats).toMatchObject({ dropped: 2, acked: 2, nacked: 0 });
  });

  it('rejects a bad duration and a non-function key, naming the kind and the option', () => {
    expect(() => dedupe('10 s')).toThrow(/node kind 'dedupe': option 'duration': bad duration/);
    expect(() => nodes.dedupe({ duration: '1s', key: 'customer' as never })).toThrow(/node kind 'dedupe': option 'key' must be a function/);
  });
});
