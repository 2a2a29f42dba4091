// Level 1: one node as an RxJS operator, on the scheduler of an rxjs-marbles test.
import { marbles } from 'rxjs-marbles/jest';
import { nodes } from 'tributary';
import { DeliveryProbe, payloadOperator, sourcePayloads } from 'tributary/testing';

describe('ratelimit', () => {
  it(
    'lets an event through only if the last one let through was at least 2 s ago',
    marbles((m) => {
      const limit = payloadOperator(nodes.ratelimit({ interval: '2s' }), { scheduler: m.scheduler });
      const input = m.cold('a 999ms b 999ms c 999ms d|');
      // a@0 passes; b@1000 is too soon; c@2000 is exactly 2 s after a; d@3000 is too soon.
      m.expect(input.pipe(limit)).toBeObservable('a 1999ms c 999ms -|');
    }),
  );

  it(
    'acks each event it drops, when it drops it, and leaves the others to the sink',
    marbles((m) => {
      const deliveries = new DeliveryProbe(m.scheduler);
      const limit = payloadOperator(nodes.ratelimit({ interval: '2s' }), { scheduler: m.scheduler, deliveries });
      m.expect(m.cold('a 999ms b 999ms c|').pipe(limit)).toBeObservable('a 1999ms c|');
      m.expect(deliveries.acks).toBeObservable('1000ms b');
      m.expect(deliveries.nacks).toBeObservable('');
    }),
  );
});

describe('map', () => {
  it(
    'turns a throw into an error event, not a broken stream',
    marbles((m) => {
      const parse = payloadOperator(nodes.map({ fn: (s: string) => JSON.parse(s) }), { scheduler: m.scheduler });
      const input = m.cold('a-b-c|', { a: '{"n":1}', b: 'oops', c: '{"n":3}' });
      m.expect(input.pipe(parse)).toBeObservable('a-b-c|', {
        a: { n: 1 },
        b: { error: expect.stringContaining('JSON') },
        c: { n: 3 },
      });
    }),
  );
});

describe('ticker', () => {
  it(
    'emits the tick time every period from when it is subscribed',
    marbles((m) => {
      const ticks = sourcePayloads(nodes.ticker({ interval: '500ms' }), { scheduler: m.scheduler });
      // Unsubscribe at 1600 ms: the ticker never completes on its own.
      m.expect(ticks, '^ 1600ms !').toBeObservable('500ms a 499ms b 499ms c', { a: 500, b: 1000, c: 1500 });
    }),
  );
});
