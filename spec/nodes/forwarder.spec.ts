import { nodes, type Event } from 'tributary';
import { errorEvent, events, marblePipeline, pipelineOf, probeContext, runAll, tracked, viewAll } from './support';

describe('forwarder', () => {
  const v = events({ a: 1, b: 2, c: 3, x: errorEvent(4, 'boom') });

  it('completes when its input does (no events)', () => {
    marblePipeline(nodes.forwarder(), ({ cold, expectObservable }, op) => expectObservable(cold<Event>('---|').pipe(op)).toBe('---|'));
  });

  it('passes one and many events through in the frames they arrive, error events included', () => {
    marblePipeline(nodes.forwarder(), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-a-bxc|', v).pipe(op, viewAll)).toBe('-a-bxc|', { a: 1, b: 2, x: { error: 'boom', node: 'upstream' }, c: 3 });
    });
  });

  it('passes an input that never completes and unsubscribes from it on early unsubscribe', () => {
    marblePipeline(nodes.forwarder(), ({ cold, expectObservable, expectSubscriptions }, op) => {
      const input = cold('-a-b-c-', v);
      expectObservable(input.pipe(op, viewAll), '^---!').toBe('-a-b-', { a: 1, b: 2 });
      expectSubscriptions(input.subscriptions).toBe('^---!');
    });
  });

  it('passes the very same event objects and never settles their handles', async () => {
    const sent = tracked(1);
    const out = await runAll([sent.event], pipelineOf(nodes.forwarder(), probeContext('f')));
    expect(out[0]).toBe(sent.event);
    expect(sent.delivery.calls).toEqual([]);
  });

  it('takes no options', () => {
    expect(() => nodes.forwarder({ to: 'x' } as never)).toThrow(/node kind 'forwarder': unknown option 'to'/);
  });
});
