import { nodes, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, tracked, viewAll } from './support';

const fail = { error: 'boom', node: 'upstream' };

function marbles(interval: string | number, body: Parameters<typeof marblePipeline>[1]) {
  return marblePipeline(nodes.ratelimit({ interval }), body, 'limit');
}

describe('ratelimit', () => {
  const v = events({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', f: 'f', g: 'g', x: errorEvent('x', 'boom') });

  it('completes without emitting when no events arrive', () => {
    marbles('2s', ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('-----|').pipe(op, viewAll)).toBe('-----|');
    });
  });

  it('lets the first event through', () => {
    marbles('2s', ({ cold, expectObservable }, op) => {
      expectObservable(cold('--a|', v).pipe(op, viewAll)).toBe('--a|', { a: 'a' });
    });
  });

  it('lets an event through only when the last one let through was at least the interval ago', () => {
    const ctx = marbles(3, ({ cold, expectObservable }, op) => {
      expectObservable(cold('-abcdefg|', v).pipe(op, viewAll)).toBe('-a--d--g|', { a: 'a', d: 'd', g: 'g' });
    });
    expect(ctx.stats).toMatchObject({ dropped: 4, errors: 0 });
  });

  it('counts the interval in virtual time from Go-syntax durations', () => {
    marbles('2s', ({ cold, expectObservable }, op) => {
      const input = cold('a 999ms b 999ms c 999ms d 999ms e|', v);
      // a@0 passes, b@1000 and c@2000? c is exactly 2 s after a: passes; d@3000 dropped; e@4000 passes.
      expectObservable(input.pipe(op, viewAll)).toBe('a 1999ms c 1999ms e|', { a: 'a', c: 'c', e: 'e' });
    });
  });

  it('passes error events through without counting them against the limit', () => {
    marbles(3, ({ cold, expectObservable }, op) => {
      // x at frame 3 must not reset the clock: b at frame 4 is 3 after a and passes.
      expectObservable(cold('-a-xb|', v).pipe(op, viewAll)).toBe('-a-xb|', { a: 'a', x: fail, b: 'b' });
    });
  });

  it('keeps limiting an input that never completes', () => {
    marbles(4, ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a-b-c-d-e-', v).pipe(op, viewAll)).toBe('-a---c---e-', { a: 'a', c: 'c', e: 'e' });
    });
  });

  it('unsubscribes from its input when its subscriber unsubscribes early', () => {
    marbles(1, ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-d-|', v);
      expectObservable(input.pipe(op, viewAll), '^----!').toBe('-a-b--', { a: 'a', b: 'b' });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('forwards an RxJS error from its input (a broken network, not an event failure)', () => {
    marbles(1, ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a-#', v, new Error('broken')).pipe(op, viewAll)).toBe('-a-#', { a: 'a' }, new Error('broken'));
    });
  });

  it('acks each dropped event exactly once, counts it, and leaves passed events to downstream', () => {
    const sent = ['a', 'b', 'c', 'd'].map(tracked);
    const ctx = marbles(3, ({ cold, expectObservable }, op) => {
      const input = cold('-abcd|', { a: sent[0].event, b: sent[1].event, c: sent[2].event, d: sent[3].event });
      expectObservable(input.pipe(op, viewAll)).toBe('-a--d|', { a: 'a', d: 'd' });
    });
    expect(sent.map((s) => s.delivery.calls)).toEqual([[], ['ack'], ['ack'], []]);
    expect(ctx.stats).toMatchObject({ dropped: 2, acked: 2, nacked: 0 });
  });
});
