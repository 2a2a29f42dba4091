import { createEvent, nodes, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, tracked, viewAll } from './support';

const delay = (duration: string | number) => nodes.delay({ duration });

describe('delay', () => {
  const v = events({ a: 'a', b: 'b', c: 'c', x: errorEvent('x', 'boom') });

  it('completes when its input does if nothing is held', () => {
    marblePipeline(delay('1s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('---|').pipe(op, viewAll)).toBe('---|');
    });
  });

  it('holds one event for the duration and completes after delivering it (the drain on stop)', () => {
    marblePipeline(delay(3), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a|', v).pipe(op, viewAll)).toBe('----(a|)', { a: 'a' });
    });
  });

  it('holds many events, each for the duration, keeping their order and spacing', () => {
    marblePipeline(delay('2s'), ({ cold, expectObservable }, op) => {
      expectObservable(cold('a 99ms b 9ms c|', v).pipe(op, viewAll)).toBe('2s a 99ms b 9ms (c|)', { a: 'a', b: 'b', c: 'c' });
    });
  });

  it('passes error events on unchanged and in order', () => {
    marblePipeline(delay(2), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-axb|', v).pipe(op, viewAll)).toBe('---ax(b|)', {
        a: 'a',
        x: { error: 'boom', node: 'upstream' },
        b: 'b',
      });
    });
  });

  it('keeps delaying an input that never completes', () => {
    marblePipeline(delay(2), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a-b-c-', v).pipe(op, viewAll)).toBe('---a-b-c-', { a: 'a', b: 'b', c: 'c' });
    });
  });

  it('drops held events and unsubscribes from its input on early unsubscribe', () => {
    marblePipeline(delay(3), ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c|', v);
      expectObservable(input.pipe(op, viewAll), '^-----!').toBe('----a-', { a: 'a' });
      expectSubscriptions(input.subscriptions).toBe('^-----!');
    });
  });

  it('keeps the event itself, ack handle included, and leaves settling to downstream', () => {
    const sent = tracked('a');
    const out: Event[] = [];
    marblePipeline(delay(5), ({ cold, flush }, op) => {
      cold('a|', { a: sent.event })
        .pipe(op)
        .subscribe((e) => out.push(e));
      flush();
    });
    expect(out).toEqual([sent.event]);
    expect(out[0]).toBe(sent.event);
    expect(sent.delivery.calls).toEqual([]);
    expect(createEvent(1)).not.toBe(out[0]);
  });

  it('rejects a bad or missing duration naming the kind and the option', () => {
    expect(() => delay('5x')).toThrow(/node kind 'delay'.*option 'duration'.*"5x"/);
    expect(() => delay(-1)).toThrow(/node kind 'delay'.*'duration'/);
    expect(() => (nodes.delay as (o?: object) => unknown)({})).toThrow(/node kind 'delay': option 'duration' is required/);
  });
});
