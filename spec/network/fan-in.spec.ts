import { Subject, of, throwError, concat, type Observable } from 'rxjs';
import { createEvent, type Event } from 'tributary';
import { fanIn } from '../../lib/network/broadcast';

const ev = (n: number): Event => createEvent(n);

function record(source: Observable<Event>): { values: unknown[]; done: string[] } {
  const log = { values: [] as unknown[], done: [] as string[] };
  source.subscribe({
    next: (e) => log.values.push(e.payload),
    error: (err: Error) => log.done.push(`error: ${err.message}`),
    complete: () => log.done.push('complete'),
  });
  return log;
}

describe('fanIn (the input of a node with several producers)', () => {
  it('passes every event as it comes and completes only once every input has', () => {
    const a = new Subject<Event>();
    const b = new Subject<Event>();
    const log = record(fanIn([a, b]));
    a.next(ev(1));
    b.next(ev(2));
    a.complete();
    expect(log.done).toEqual([]);
    b.next(ev(3));
    b.complete();
    expect(log.values).toEqual([1, 2, 3]);
    expect(log.done).toEqual(['complete']);
  });

  it('reads synchronous inputs one after the other, in order', () => {
    const log = record(fanIn([of(ev(1), ev(2)), of(ev(3))]));
    expect(log.values).toEqual([1, 2, 3]);
    expect(log.done).toEqual(['complete']);
  });

  it('fails with the first failure and unsubscribes the other inputs', () => {
    const a = new Subject<Event>();
    const b = new Subject<Event>();
    const log = record(fanIn([a, concat(of(ev(1)), b), throwError(() => new Error('boom'))]));
    expect(log.values).toEqual([1]);
    expect(log.done).toEqual(['error: boom']);
    expect(a.observed).toBe(false);
    expect(b.observed).toBe(false);
  });

  it('unsubscribes every input when its consumer does', () => {
    const a = new Subject<Event>();
    const b = new Subject<Event>();
    const sub = fanIn([a, b]).subscribe();
    expect(a.observed && b.observed).toBe(true);
    sub.unsubscribe();
    expect(a.observed || b.observed).toBe(false);
  });

  it('completes at once with no inputs', () => {
    expect(record(fanIn([])).done).toEqual(['complete']);
  });
});
