import { bufferCount, filter, map, type Observable } from 'rxjs';
import { nodes, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, probeContext, runAll, sourceOf, testScheduler, tracked, view, viewAll } from './support';

describe('nodes.operator (any RxJS operator over payloads)', () => {
  const v = events({ a: 1, b: 2, c: 3, x: errorEvent(9, 'boom') });

  it('runs the operator over payloads, in virtual time, completing with its input', () => {
    marblePipeline(nodes.operator(map((n: number) => n * 10)), ({ cold, expectObservable }, op) => {
      expectObservable(cold<Event>('---|').pipe(op, viewAll)).toBe('---|');
      expectObservable(cold('-a-bc|', v).pipe(op, viewAll)).toBe('-a-bc|', { a: 10, b: 20, c: 30 });
    });
  });

  it('lets error events bypass the operator', () => {
    marblePipeline(nodes.operator(bufferCount(2)), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-axb|', v).pipe(op, viewAll)).toBe('--xl|', {
        x: { error: 'boom', node: 'upstream' },
        l: [1, 2],
      });
    });
  });

  it('keeps running on a never-ending input and unsubscribes on early unsubscribe', () => {
    marblePipeline(nodes.operator(map((n: number) => -n)), ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-', v);
      expectObservable(input.pipe(op, viewAll), '^--!').toBe('-a-', { a: -1 });
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
  });

  it('acks each input exactly once as it enters (an arbitrary operator cannot carry handles)', async () => {
    const sent = [tracked(1), tracked(2), tracked(3)];
    const ctx = probeContext('evens');
    const out = await runAll(
      sent.map((s) => s.event),
      nodes.operator(filter((n: number) => n % 2 === 0)).create(ctx),
    );
    expect(out.map(view)).toEqual([2]);
    expect(out[0].delivery).toBeUndefined();
    expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], ['ack'], ['ack']]);
  });
});

describe('nodes.eventOperator (an RxJS operator over whole events)', () => {
  it('sees the events themselves, handles included', async () => {
    const sent = tracked('a');
    const out = await runAll([sent.event], nodes.eventOperator(filter((e: Event) => e.payload === 'a')).create(probeContext('x')));
    expect(out[0]).toBe(sent.event);
    expect(sent.delivery.calls).toEqual([]);
  });
});

describe('nodes.observable (an Observable as a source)', () => {
  it('emits the values as events, and events as they are', () => {
    const t = testScheduler();
    t.run(({ cold, expectObservable }) => {
      const src: Observable<Event> = sourceOf(nodes.observable(cold('-a-b|', { a: 'x', b: 'y' })), probeContext('o', t));
      expectObservable(src.pipe(viewAll)).toBe('-a-b|', { a: 'x', b: 'y' });
    });
  });
});
