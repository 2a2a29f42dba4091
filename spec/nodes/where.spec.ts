import { createEvent, nodes } from 'tributary';
import { functionNodeContract } from './function-node';
import { events, marblePipeline, pipelineOf, probeContext, runAll, tracked, viewAll } from './support';

describe('where', () => {
  functionNodeContract({
    kind: 'where',
    make: (fn, concurrency) => nodes.where({ fn, concurrency }),
    pass: () => true,
  });

  it('keeps the events whose payload satisfies the predicate', () => {
    const ctx = marblePipeline(nodes.where({ fn: (bet: { stake: number }) => bet.stake >= 100 }), ({ cold, expectObservable }, op) => {
      const v = events({ a: { stake: 5 }, b: { stake: 100 }, c: { stake: 99 }, d: { stake: 500 } });
      expectObservable(cold('abcd|', v).pipe(op, viewAll)).toBe('-b-d|', { b: { stake: 100 }, d: { stake: 500 } });
    });
    expect(ctx.stats).toMatchObject({ dropped: 2, errors: 0 });
  });

  it('treats truthy and falsy results as keep and drop, for async predicates too', async () => {
    const input = [0, 1, '', 'x', null, {}].map((p) => createEvent(p));
    const out = await runAll(input, pipelineOf(nodes.where({ fn: async (p: unknown) => p, concurrency: 3 }), probeContext('w')));
    expect(out.map((e) => e.payload).sort()).toEqual([1, 'x', {}].sort());
  });

  it('acks each dropped event exactly once and leaves kept ones (the very same handle) to downstream', async () => {
    const sent = [1, 2, 3, 4].map(tracked);
    const ctx = probeContext('w');
    const out = await runAll(
      sent.map((s) => s.event),
      pipelineOf(nodes.where({ fn: (n: number) => n % 2 === 0 }), ctx),
    );
    expect(out.map((e) => e.delivery)).toEqual([sent[1].delivery, sent[3].delivery]);
    expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], [], ['ack'], []]);
    expect(ctx.stats).toMatchObject({ dropped: 2, acked: 2 });
  });
});
