import { marbles } from 'rxjs-marbles/jest';
import { createEvent, nodes, type Event } from 'tributary';
import { DeliveryProbe, payloadOperator } from 'tributary/testing';
import { errorEvent, events, pipelineOf, probeContext, tracked, viewAll } from './support';

const delay = (duration: string | number) => nodes.delay({ duration });

describe('delay', () => {
  const v = events({ a: 'a', b: 'b', c: 'c', x: errorEvent('x', 'boom') });

  it(
    'completes when its input does if nothing is held',
    marbles((m) => {
      m.expect(m.cold('---|').pipe(payloadOperator(delay('1s'), { scheduler: m.scheduler }))).toBeObservable('---|');
    }),
  );

  it(
    'holds one event for the duration and completes after delivering it (the drain on stop)',
    marbles((m) => {
      m.expect(m.cold('-a|').pipe(payloadOperator(delay(3), { scheduler: m.scheduler }))).toBeObservable('----(a|)');
    }),
  );

  it(
    'holds many events, each for the duration, keeping their order and spacing',
    marbles((m) => {
      const op = payloadOperator(delay('2s'), { scheduler: m.scheduler });
      m.expect(m.cold('a 99ms b 9ms c|').pipe(op)).toBeObservable('2s a 99ms b 9ms (c|)');
    }),
  );

  it(
    'passes error events on unchanged and in order',
    marbles((m) => {
      const op = pipelineOf(delay(2), probeContext('delay', m.scheduler));
      m.expect(m.cold('-axb|', v).pipe(op, viewAll)).toBeObservable('---ax(b|)', {
        a: 'a',
        x: { error: 'boom', node: 'upstream' },
        b: 'b',
      });
    }),
  );

  it(
    'keeps delaying an input that never completes',
    marbles((m) => {
      m.expect(m.cold('-a-b-c-').pipe(payloadOperator(delay(2), { scheduler: m.scheduler }))).toBeObservable('---a-b-c-');
    }),
  );

  it(
    'drops held events and unsubscribes from its input on early unsubscribe',
    marbles((m) => {
      const input = m.cold('-a-b-c|');
      m.expect(input.pipe(payloadOperator(delay(3), { scheduler: m.scheduler })), '^-----!').toBeObservable('----a-');
      m.has(input, '^-----!');
    }),
  );

  it(
    'keeps the event itself, ack handle included, and leaves settling to downstream',
    marbles((m) => {
      const sent = tracked('a');
      const out: Event[] = [];
      const op = pipelineOf(delay(5), probeContext('delay', m.scheduler));
      m.cold('a|', { a: sent.event })
        .pipe(op)
        .subscribe((e) => out.push(e));
      const deliveries = new DeliveryProbe(m.scheduler);
      m.cold('a|')
        .pipe(payloadOperator(delay(5), { scheduler: m.scheduler, deliveries }))
        .subscribe();
      m.flush();
      expect(out).toEqual([sent.event]);
      expect(out[0]).toBe(sent.event);
      expect(sent.delivery.calls).toEqual([]);
      expect(createEvent(1)).not.toBe(out[0]);
      expect(deliveries.log).toEqual([]);
      expect(deliveries.pending()).toEqual(['a']);
    }),
  );

  it('rejects a bad or missing duration naming the kind and the option', () => {
    expect(() => delay('5x')).toThrow(/node kind 'delay'.*option 'duration'.*"5x"/);
    expect(() => delay(-1)).toThrow(/node kind 'delay'.*'duration'/);
    expect(() => (nodes.delay as (o?: object) => unknown)({})).toThrow(/node kind 'delay': option 'duration' is required/);
  });
});
