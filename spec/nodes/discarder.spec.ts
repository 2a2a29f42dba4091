import { nodes, withError, type Event } from 'tributary';
import { errorEvent, events, probeContext, runAll, sinkOf, testScheduler, tracked } from './support';

describe('discarder', () => {
  function marbles(
    body: (h: Parameters<Parameters<ReturnType<typeof testScheduler>['run']>[0]>[0], op: ReturnType<typeof sinkOf>) => void,
  ) {
    const t = testScheduler();
    const ctx = probeContext('void', t);
    t.run((h) => body(h, sinkOf(nodes.discarder(), ctx)));
    return ctx;
  }
  const v = events({ a: 1, b: 2, c: 3, x: errorEvent(4, 'boom') });

  it('completes when its input completes (no events)', () => {
    marbles(({ cold, expectObservable }, op) => expectObservable(cold<Event>('--|').pipe(op)).toBe('--|'));
  });

  it('consumes one and many events, error events too, emitting nothing and counting each as dropped', () => {
    const ctx = marbles(({ cold, expectObservable }, op) => expectObservable(cold('-a-bxc|', v).pipe(op)).toBe('------|'));
    expect(ctx.stats).toMatchObject({ dropped: 4, nacked: 0 });
  });

  it('keeps consuming an input that never completes, and unsubscribes on early unsubscribe', () => {
    const ctx = marbles(({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-', v);
      expectObservable(input.pipe(op), '^--!').toBe('');
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
    expect(ctx.stats.dropped).toBe(1);
  });

  it('acks every event exactly once, error events included', async () => {
    const sent = [tracked(1), tracked(2)];
    const failed = tracked(3);
    const ctx = probeContext('void');
    await runAll([sent[0].event, withError(failed.event, 'bad', 'x'), sent[1].event], sinkOf(nodes.discarder(), ctx));
    expect([...sent, failed].map((s) => s.delivery.calls)).toEqual([['ack'], ['ack'], ['ack']]);
    expect(ctx.stats).toMatchObject({ acked: 3, dropped: 3 });
  });

  it('takes no options', () => {
    expect(() => nodes.discarder({ verbose: true } as never)).toThrow(
      /node kind 'discarder': unknown option 'verbose' \(it takes no options\)/,
    );
  });
});
