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

  it('consumes one and many events, emitting nothing: drops the good ones, nacks and reports an error event', () => {
    const ctx = marbles(({ cold, expectObservable }, op) => expectObservable(cold('-a-bxc|', v).pipe(op)).toBe('------|'));
    // The error event is not dropped (only the three good ones are); its nack is counted where
    // it has a delivery handle (the ack test below).
    expect(ctx.stats).toMatchObject({ dropped: 3, acked: 0 });
    expect(ctx.logger.warnings).toEqual([expect.stringMatching(/^node 'void': error event .+: boom$/)]);
  });

  it('reports error events once per node and interval, counting the ones in between (on the scheduler clock)', () => {
    const many = events({ a: 1, x: errorEvent(2, 'db down') });
    const ctx = marbles(({ cold, expectObservable }, op) =>
      // Error events at 0, 1 s, 2 s, 3 s: the first is reported, three are quiet; the fifth, at
      // 11 s, is reported with the count of the quiet ones; the sixth, at 12 s, is quiet again.
      expectObservable(cold('x 1s x 1s x 1s x 8s x 999ms x 1s a|', many).pipe(op)).toBe('13006ms |'),
    );
    expect(ctx.stats).toMatchObject({ dropped: 1 });
    expect(ctx.logger.warnings).toEqual([
      expect.stringMatching(/^node 'void': error event .+: db down$/),
      expect.stringMatching(/^node 'void': error event .+: db down \(and 3 more error events nacked since the last report\)$/),
    ]);
  });

  it('keeps consuming an input that never completes, and unsubscribes on early unsubscribe', () => {
    const ctx = marbles(({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-', v);
      expectObservable(input.pipe(op), '^--!').toBe('');
      expectSubscriptions(input.subscriptions).toBe('^--!');
    });
    expect(ctx.stats.dropped).toBe(1);
  });

  it('acks every event exactly once, and nacks an error event exactly once (never acks failed work)', async () => {
    const sent = [tracked(1), tracked(2)];
    const failed = tracked(3);
    const ctx = probeContext('void');
    await runAll([sent[0].event, withError(failed.event, 'bad', 'x'), sent[1].event], sinkOf(nodes.discarder(), ctx));
    expect([...sent, failed].map((s) => s.delivery.calls)).toEqual([['ack'], ['ack'], ['nack']]);
    expect(ctx.stats).toMatchObject({ acked: 2, dropped: 2, nacked: 1 });
  });

  it('takes no options', () => {
    expect(() => nodes.discarder({ verbose: true } as never)).toThrow(
      /node kind 'discarder': unknown option 'verbose' \(it takes no options\)/,
    );
  });
});
