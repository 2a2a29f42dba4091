import { createEvent, nodes, type Event } from 'tributary';
import { functionNodeContract } from './function-node';
import { events, marblePipeline, pipelineOf, probeContext, runAll, tracked, viewAll } from './support';

describe('map', () => {
  functionNodeContract({
    kind: 'map',
    make: (fn, concurrency) => nodes.map({ fn, concurrency }),
    pass: (p) => p,
  });

  it('replaces each payload by fn(payload)', () => {
    marblePipeline(nodes.map({ fn: (n: number) => n * 2 }), ({ cold, expectObservable }, op) => {
      expectObservable(cold('-ab|', events({ a: 1, b: 21 })).pipe(op, viewAll)).toBe('-ab|', { a: 2, b: 42 });
    });
  });

  it('passes the whole event as the second argument', async () => {
    const input = createEvent('x', { key: 'customer-1' });
    const [out] = await runAll([input], pipelineOf(nodes.map({ fn: (p: string, e: Event) => `${e.meta.key}:${p}` }), probeContext('m')));
    expect(out.payload).toBe('customer-1:x');
  });

  it('keeps the metadata and the very same ack handle, without settling it', async () => {
    const sent = tracked(1);
    const [out] = await runAll([sent.event], pipelineOf(nodes.map({ fn: async (n: number) => n + 1 }), probeContext('m')));
    expect(out.payload).toBe(2);
    expect(out.meta).toBe(sent.event.meta);
    expect(out.delivery).toBe(sent.delivery);
    expect(sent.delivery.calls).toEqual([]);
  });

  it('emits undefined and null results as payloads (map never drops)', async () => {
    const out = await runAll(
      Object.values(events({ a: 1, b: 2 })),
      pipelineOf(nodes.map({ fn: (n: number) => (n === 1 ? undefined : null) }), probeContext('m')),
    );
    expect(out.map((e) => e.payload)).toEqual([undefined, null]);
  });
});
