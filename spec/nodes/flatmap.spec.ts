import { createEvent, nodes, type Event } from 'tributary';
import { functionNodeContract } from './function-node';
import { events, marblePipeline, pipelineOf, probeContext, runAll, tracked, view, viewAll } from './support';

describe('flatmap', () => {
  functionNodeContract({
    kind: 'flatmap',
    make: (fn, concurrency) => nodes.flatmap({ fn: fn as (p: unknown) => Iterable<unknown>, concurrency }),
    pass: (p) => [p],
  });

  it('turns each payload into zero or more events, in order, in the same frame', () => {
    const ctx = marblePipeline(nodes.flatmap({ fn: (line: string) => (line ? line.split(' ') : []) }), ({ cold, expectObservable }, op) => {
      const v = events({ a: 'to be', b: '', c: 'or' });
      expectObservable(cold('-a-b-c|', v).pipe(op, viewAll)).toBe('-(xy)z|', { x: 'to', y: 'be', z: 'or' });
    });
    expect(ctx.stats.dropped).toBe(1);
  });

  it('accepts any iterable (a Set, a generator) from sync and async functions', async () => {
    const out = await runAll(
      [createEvent(2), createEvent(3)],
      pipelineOf(
        nodes.flatmap({
          fn: async (n: number) =>
            n === 2
              ? new Set(['a', 'b'])
              : (function* () {
                  yield 'c';
                })(),
        }),
        probeContext('f'),
      ),
    );
    expect(out.map(view)).toEqual(['a', 'b', 'c']);
  });

  it('turns a result that is not a list (a string, a number, null) into an error event naming the node', async () => {
    const input = ['word', 5, null].map((p) => createEvent(p));
    const ctx = probeContext('split');
    const out = await runAll(input, pipelineOf(nodes.flatmap({ fn: (p: unknown) => p as Iterable<unknown> }), ctx));
    expect(out.map((e) => e.error?.node)).toEqual(['split', 'split', 'split']);
    expect(out.map((e) => e.error?.message)).toEqual([
      'flatmap function must return a list, got string',
      'flatmap function must return a list, got number',
      'flatmap function must return a list, got null',
    ]);
    expect(ctx.stats.errors).toBe(3);
  });

  it('keeps event time, key and headers on every output', async () => {
    const input = createEvent('a b', { time: 1234, key: 'k', headers: { h: '1' } });
    const out = await runAll([input], pipelineOf(nodes.flatmap({ fn: (s: string) => s.split(' ') }), probeContext('f')));
    for (const e of out) expect(e.meta).toMatchObject({ time: 1234, key: 'k', headers: { h: '1' } });
  });

  describe('delivery: the input handle is split among the outputs', () => {
    async function split(n: number) {
      const sent = tracked(n);
      const ctx = probeContext('f');
      const out = await runAll([sent.event], pipelineOf(nodes.flatmap({ fn: (k: number) => Array.from({ length: k }, (_, i) => i) }), ctx));
      return { sent, out, ctx };
    }

    it('0 outputs: the input is acked at once, exactly once, and counted as dropped', async () => {
      const { sent, out, ctx } = await split(0);
      expect(out).toEqual([]);
      expect(sent.delivery.calls).toEqual(['ack']);
      expect(ctx.stats).toMatchObject({ dropped: 1, acked: 1 });
    });

    it('1 output: it carries the input handle itself', async () => {
      const { sent, out } = await split(1);
      expect(out[0].delivery).toBe(sent.delivery);
      out[0].delivery!.ack();
      expect(sent.delivery.calls).toEqual(['ack']);
    });

    it('N outputs: the input is acked once, only after every output has been acked', async () => {
      const { sent, out } = await split(3);
      out[0].delivery!.ack();
      out[2].delivery!.ack();
      expect(sent.delivery.calls).toEqual([]);
      out[1].delivery!.ack();
      out[1].delivery!.ack();
      expect(sent.delivery.calls).toEqual(['ack']);
    });

    it('N outputs: one nacked output nacks the input once, after all have settled', async () => {
      const { sent, out } = await split(3);
      out[0].delivery!.ack();
      out[1].delivery!.nack('sink down');
      expect(sent.delivery.calls).toEqual([]);
      out[2].delivery!.ack();
      expect(sent.delivery.calls).toEqual(['nack']);
      expect(sent.delivery.reasons).toEqual(['sink down']);
    });

    it('events without a handle produce outputs without one', async () => {
      const out = await runAll([createEvent(2)], pipelineOf(nodes.flatmap({ fn: (k: number) => [k, k] }), probeContext('f')));
      expect(out.map((e: Event) => e.delivery)).toEqual([undefined, undefined]);
    });
  });
});
