import { marbles } from 'rxjs-marbles/jest';
import { emptyStats, nodes, type Event } from 'tributary';
import { DeliveryProbe, payloadOperator } from 'tributary/testing';
import { errorEvent, events, pipelineOf, probeContext, tracked, viewAll } from './support';

const fail = { error: 'boom', node: 'upstream' };
const limit = (interval: string | number) => nodes.ratelimit({ interval });

describe('ratelimit', () => {
  const v = events({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', f: 'f', g: 'g', x: errorEvent('x', 'boom') });

  it(
    'completes without emitting when no events arrive',
    marbles((m) => {
      m.expect(m.cold('-----|').pipe(payloadOperator(limit('2s'), { scheduler: m.scheduler }))).toBeObservable('-----|');
    }),
  );

  it(
    'lets the first event through',
    marbles((m) => {
      m.expect(m.cold('--a|').pipe(payloadOperator(limit('2s'), { scheduler: m.scheduler }))).toBeObservable('--a|');
    }),
  );

  it(
    'lets an event through only when the last one let through was at least the interval ago',
    marbles((m) => {
      const stats = emptyStats();
      m.expect(m.cold('-abcdefg|').pipe(payloadOperator(limit(3), { scheduler: m.scheduler, stats }))).toBeObservable('-a--d--g|');
      m.flush();
      expect(stats).toMatchObject({ dropped: 4, errors: 0 });
    }),
  );

  it(
    'counts the interval in virtual time from Go-syntax durations',
    marbles((m) => {
      // a@0 passes, b@1000 is too soon, c is exactly 2 s after a: passes; d@3000 dropped; e@4000 passes.
      const input = m.cold('a 999ms b 999ms c 999ms d 999ms e|');
      m.expect(input.pipe(payloadOperator(limit('2s'), { scheduler: m.scheduler }))).toBeObservable('a 1999ms c 1999ms e|');
    }),
  );

  it(
    'passes error events through without counting them against the limit',
    marbles((m) => {
      const op = pipelineOf(limit(3), probeContext('limit', m.scheduler));
      // x at frame 3 must not reset the clock: b at frame 4 is 3 after a and passes.
      m.expect(m.cold('-a-xb|', v).pipe(op, viewAll)).toBeObservable('-a-xb|', { a: 'a', x: fail, b: 'b' });
    }),
  );

  it(
    'keeps limiting an input that never completes',
    marbles((m) => {
      m.expect(m.cold('-a-b-c-d-e-').pipe(payloadOperator(limit(4), { scheduler: m.scheduler }))).toBeObservable('-a---c---e-');
    }),
  );

  it(
    'unsubscribes from its input when its subscriber unsubscribes early',
    marbles((m) => {
      const input = m.cold('-a-b-c-d-|');
      m.expect(input.pipe(payloadOperator(limit(1), { scheduler: m.scheduler })), '^----!').toBeObservable('-a-b--');
      m.has(input, '^----!');
    }),
  );

  it(
    'forwards an RxJS error from its input (a broken network, not an event failure)',
    marbles((m) => {
      const op = pipelineOf(limit(1), probeContext('limit', m.scheduler));
      m.expect(m.cold<Event>('-a-#', v, new Error('broken')).pipe(op, viewAll)).toBeObservable('-a-#', { a: 'a' }, new Error('broken'));
    }),
  );

  it(
    'acks each dropped event when it drops it, and leaves passed events to downstream',
    marbles((m) => {
      const deliveries = new DeliveryProbe(m.scheduler);
      const stats = emptyStats();
      const op = payloadOperator(limit(3), { scheduler: m.scheduler, deliveries, stats });
      m.expect(m.cold('-abcd|').pipe(op)).toBeObservable('-a--d|');
      m.expect(deliveries.acks).toBeObservable('--bc');
      m.expect(deliveries.nacks).toBeObservable('');
      m.flush();
      expect(deliveries.pending()).toEqual(['a', 'd']);
      expect(stats).toMatchObject({ dropped: 2, acked: 2, nacked: 0 });
    }),
  );

  it(
    'acks each dropped event exactly once (every call on the handle counted)',
    marbles((m) => {
      const sent = ['a', 'b', 'c', 'd'].map(tracked);
      const op = pipelineOf(limit(3), probeContext('limit', m.scheduler));
      const input = m.cold('-abcd|', { a: sent[0].event, b: sent[1].event, c: sent[2].event, d: sent[3].event });
      m.expect(input.pipe(op, viewAll)).toBeObservable('-a--d|', { a: 'a', d: 'd' });
      m.flush();
      expect(sent.map((s) => s.delivery.calls)).toEqual([[], ['ack'], ['ack'], []]);
    }),
  );
});
