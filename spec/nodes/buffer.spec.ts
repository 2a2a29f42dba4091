import { nodes, TributaryError, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, tracked, viewAll } from './support';

const buffer = (o: { size?: number; interval?: string | number }) => nodes.buffer(o);

describe('buffer', () => {
  const v = events({ a: 'a', b: 'b', c: 'c', d: 'd', e: 'e', x: errorEvent('x', 'boom') });

  it('emits no empty lists: no events in, nothing out, with a size or an interval', () => {
    marblePipeline(buffer({ size: 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('---|').pipe(op, viewAll)).toBe('---|');
    });
    marblePipeline(buffer({ interval: 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('---------|').pipe(op, viewAll)).toBe('---------|');
    });
  });

  it('emits a single event as a list of one when the input completes', () => {
    marblePipeline(buffer({ size: 10 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a--|', v).pipe(op, viewAll)).toBe('----(l|)', { l: ['a'] });
    });
  });

  it('emits every `size` events and the rest on completion', () => {
    marblePipeline(buffer({ size: 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-abcde|', v).pipe(op, viewAll)).toBe('--l-m-(n|)', { l: ['a', 'b'], m: ['c', 'd'], n: ['e'] });
    });
  });

  it('emits what was collected `interval` after the first event of a batch', () => {
    marblePipeline(buffer({ interval: 3 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-ab----c|', v).pipe(op, viewAll)).toBe('----l---(m|)', { l: ['a', 'b'], m: ['c'] });
    });
  });

  it('emits on size or interval, whichever comes first, restarting the timer after a size flush', () => {
    marblePipeline(buffer({ size: 2, interval: 5 }), ({ cold, expectObservable }, op) => {
      // a@1 starts a timer (due 6) that the size flush at 2 cancels; c@3 starts a new one, due 8.
      expectObservable(cold('-abc-------|', v).pipe(op, viewAll)).toBe('--l-----m--|', { l: ['a', 'b'], m: ['c'] });
    });
  });

  it('accepts Go-syntax intervals', () => {
    marblePipeline(buffer({ interval: '1s' }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('a 499ms b 999ms |', v).pipe(op, viewAll)).toBe('1s l 499ms |', { l: ['a', 'b'] });
    });
  });

  it('passes error events through at once, outside any batch', () => {
    marblePipeline(buffer({ size: 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-axb|', v).pipe(op, viewAll)).toBe('--xl|', { x: { error: 'boom', node: 'upstream' }, l: ['a', 'b'] });
    });
  });

  it('keeps flushing by time on an input that never completes', () => {
    marblePipeline(buffer({ interval: 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a---b-----', v).pipe(op, viewAll)).toBe('---l---m---', { l: ['a'], m: ['b'] });
    });
  });

  it('cancels its timer and unsubscribes from its input on early unsubscribe', () => {
    const ctx = marblePipeline(buffer({ interval: 5 }), ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-----|', v);
      expectObservable(input.pipe(op, viewAll), '^--!').toBe('');
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
    expect(ctx.stats.out).toBe(0);
  });

  it('stamps the list event with the first event time and key', () => {
    const out: Event[] = [];
    marblePipeline(buffer({ size: 2 }), ({ cold, flush }, op) => {
      cold('-ab|', events({ a: 1, b: 2 }))
        .pipe(op)
        .subscribe((e) => out.push(e));
      flush();
    });
    expect(out).toHaveLength(1);
    expect(out[0].payload).toEqual([1, 2]);
  });

  describe('delivery', () => {
    function batchOf(n: number) {
      const sent = Array.from({ length: n }, (_, i) => tracked(i));
      const out: Event[] = [];
      marblePipeline(buffer({ size: n }), ({ cold, flush }, op) => {
        const values = Object.fromEntries(sent.map((s, i) => [String.fromCharCode(97 + i), s.event]));
        cold('-' + Object.keys(values).join('') + '|', values)
          .pipe(op)
          .subscribe((e) => out.push(e));
        flush();
      });
      return { sent, out };
    }

    it('joins the handles: acking the list acks every collected event exactly once', () => {
      const { sent, out } = batchOf(3);
      expect(sent.map((s) => s.delivery.calls)).toEqual([[], [], []]);
      out[0].delivery!.ack();
      out[0].delivery!.ack();
      expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], ['ack'], ['ack']]);
    });

    it('joins the handles: nacking the list nacks every collected event with the reason', () => {
      const { sent, out } = batchOf(2);
      out[0].delivery!.nack('disk full');
      expect(sent.map((s) => s.delivery.calls)).toEqual([['nack'], ['nack']]);
      expect(sent.map((s) => s.delivery.reasons)).toEqual([['disk full'], ['disk full']]);
    });

    it("a list of one keeps that event's handle", () => {
      const { sent, out } = batchOf(1);
      out[0].delivery!.ack();
      expect(sent[0].delivery.calls).toEqual(['ack']);
    });
  });

  it('rejects missing size and interval, a size below 1 and a bad interval, naming kind and option', () => {
    expect(() => buffer({})).toThrow(TributaryError);
    expect(() => buffer({})).toThrow(/node kind 'buffer'.*'size'.*'interval'/);
    expect(() => buffer({ size: 0 })).toThrow(/node kind 'buffer': option 'size' must be at least 1/);
    expect(() => buffer({ size: 1.5 })).toThrow(/node kind 'buffer': option 'size' must be an integer/);
    expect(() => buffer({ interval: '0s' })).toThrow(/node kind 'buffer': option 'interval' must be at least 1ms/);
    expect(() => buffer({ interval: '1m30' })).toThrow(/node kind 'buffer': option 'interval': bad duration "1m30"/);
  });
});
