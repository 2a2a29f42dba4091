import { createEvent, nodes, withError, withPayload, type Event } from 'tributary';
import { functionNodeContract } from './function-node';
import { pipelineOf, probeContext, runAll, tracked, view } from './support';

describe('interceptor', () => {
  functionNodeContract({
    kind: 'interceptor',
    make: (fn, concurrency) => nodes.interceptor({ fn: (e: Event) => fn(e.payload), concurrency }),
    pass: (p) => p,
  });

  it('gets the whole event and may return a derived event', async () => {
    const input = createEvent({ stake: 5 }, { key: 'c1', time: 42 });
    const out = await runAll(
      [input],
      pipelineOf(
        nodes.interceptor({ fn: (e: Event<any>) => withPayload(e, { ...e.payload, key: e.meta.key, at: e.meta.time }) }),
        probeContext('i'),
      ),
    );
    expect(out.map(view)).toEqual([{ stake: 5, key: 'c1', at: 42 }]);
    expect(out[0].meta).toBe(input.meta);
  });

  it('wraps a bare payload result keeping the input metadata and ack handle', async () => {
    const sent = tracked(3);
    const [out] = await runAll(
      [sent.event],
      pipelineOf(nodes.interceptor({ fn: async (e: Event) => ({ at: e.meta.time, value: e.payload }) }), probeContext('i')),
    );
    expect(out.payload).toEqual({ at: 0, value: 3 });
    expect(out.meta).toBe(sent.event.meta);
    expect(out.delivery).toBe(sent.delivery);
  });

  it('reads a plain { payload, meta } with the input id as that event changed, keeping id and ack handle', async () => {
    const sent = tracked(3);
    const ctx = probeContext('i');
    const out = await runAll(
      [sent.event],
      pipelineOf(
        nodes.interceptor({ fn: (e: Event<any>) => ({ ...e, payload: e.payload + 1, meta: { ...e.meta, id: e.meta.id, key: 'c9' } }) }),
        ctx,
      ),
    );
    expect(out.map(view)).toEqual([4]);
    expect(out[0].meta.id).toBe(sent.event.meta.id);
    expect(out[0].meta.key).toBe('c9');
    expect(out[0].delivery).toBe(sent.delivery);
    const other = await runAll(
      [createEvent(1)],
      pipelineOf(nodes.interceptor({ fn: () => ({ payload: 'x', meta: { id: 'someone-else' } }) }), probeContext('i')),
    );
    expect(other.map(view)).toEqual([{ payload: 'x', meta: { id: 'someone-else' } }]);
  });

  it('may emit an error event it built itself', async () => {
    const [out] = await runAll(
      [createEvent(1)],
      pipelineOf(nodes.interceptor({ fn: (e: Event) => withError(e, 'rejected by rule', 'rules') }), probeContext('i')),
    );
    expect(view(out)).toEqual({ error: 'rejected by rule', node: 'rules' });
  });

  it('drops (acks exactly once, counts) an event when fn returns undefined', async () => {
    const sent = [tracked(1), tracked(2)];
    const ctx = probeContext('i');
    const out = await runAll(
      sent.map((s) => s.event),
      pipelineOf(nodes.interceptor({ fn: (e: Event) => (e.payload === 1 ? undefined : e) }), ctx),
    );
    expect(out.map(view)).toEqual([2]);
    expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], []]);
    expect(ctx.stats).toMatchObject({ dropped: 1, acked: 1 });
  });

  it('keeps the input ack handle when fn returns a brand-new event without one (the handle is never lost)', async () => {
    const sent = tracked('in');
    const [out] = await runAll([sent.event], pipelineOf(nodes.interceptor({ fn: () => createEvent('replacement') }), probeContext('i')));
    expect(out.payload).toBe('replacement');
    expect(out.delivery).toBe(sent.delivery);
  });
});
