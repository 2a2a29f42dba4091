/**
 * End to end: every built-in pipeline kind inside a real Network, fed by a flow-controlled
 * source whose every event must be settled exactly once — acked when handled or dropped,
 * nacked when the sink fails on it (or on anything derived from it).
 */
import { Network, nodes, type NodeSpec, type Settlement } from 'tributary';

const N = 24;

async function settleAll(middle: NodeSpec[], sinkFails: (payload: unknown) => boolean, extra?: (net: Network) => void) {
  const settled = new Map<number, Settlement[]>();
  const net = new Network({ logger: { warn: () => undefined, error: () => undefined } });
  net.add(
    'src',
    nodes.from({
      items: Array.from({ length: N }, (_, i) => i + 1),
      maxInFlight: 5,
      onSettle: (e, s) => settled.set(e.payload as number, [...(settled.get(e.payload as number) ?? []), s]),
    }),
  );
  let prev = 'src';
  middle.forEach((node, i) => {
    net.add(`n${i}`, node);
    net.link(prev, `n${i}`);
    prev = `n${i}`;
  });
  if (extra) extra(net);
  else {
    net.add(
      'out',
      nodes.sink({
        fn: async (p: unknown) => {
          if (sinkFails(p)) throw new Error('sink failed');
        },
      }),
    );
    net.link(prev, 'out');
  }
  await net.start();
  const report = await net.done();
  expect(report.failure).toBeUndefined();
  return { settled, report };
}

function expectOnce(settled: Map<number, Settlement[]>, nacked: number[]) {
  for (let i = 1; i <= N; i++) {
    const s = settled.get(i);
    expect({ event: i, settlements: s }).toEqual({
      event: i,
      settlements: [nacked.includes(i) ? { acked: false, reason: expect.anything() } : { acked: true }],
    });
  }
}

describe('each pipeline kind settles every event exactly once inside a network', () => {
  it('forwarder', async () => {
    const { settled } = await settleAll([nodes.forwarder()], (p) => p === 7);
    expectOnce(settled, [7]);
  });

  it('map (async, concurrency 4)', async () => {
    const { settled } = await settleAll([nodes.map({ fn: async (n: number) => n * 10, concurrency: 4 })], (p) => p === 70);
    expectOnce(settled, [7]);
  });

  it('map that throws: the error event is nacked at the sink', async () => {
    const { settled } = await settleAll(
      [
        nodes.map({
          fn: (n: number) => {
            if (n === 3) throw new Error('bad');
            return n;
          },
        }),
      ],
      () => false,
    );
    expectOnce(settled, [3]);
  });

  it('where (drops are acked)', async () => {
    const { settled, report } = await settleAll([nodes.where({ fn: (n: number) => n % 2 === 0 })], (p) => p === 8);
    expectOnce(settled, [8]);
    expect(report.stats.n0.dropped).toBe(N / 2);
  });

  it('flatmap with 0, 1 and N outputs (concurrency 3)', async () => {
    const { settled } = await settleAll(
      [nodes.flatmap({ fn: async (n: number) => (n % 3 === 0 ? [] : n % 3 === 1 ? [n] : [n, -n, n]), concurrency: 3 })],
      (p) => p === -5,
    );
    expectOnce(settled, [5]);
  });

  it('tap and interceptor', async () => {
    const { settled } = await settleAll(
      [nodes.tap({ fn: async () => undefined }), nodes.interceptor({ fn: (e) => (e.payload === 4 ? undefined : { wrapped: e.payload }) })],
      (p) => (p as { wrapped: number }).wrapped === 9,
    );
    expectOnce(settled, [9]);
  });

  it('buffer by size (a failed batch nacks all of its events)', async () => {
    const { settled } = await settleAll([nodes.buffer({ size: 4 })], (p) => (p as number[]).includes(10));
    expectOnce(settled, [9, 10, 11, 12]);
  });

  it('ratelimit and dedupe (drops are acked)', async () => {
    const { settled } = await settleAll(
      [nodes.dedupe({ duration: '1h', key: (n: number) => String(n % 5) }), nodes.ratelimit({ interval: 0 })],
      (p) => p === 2,
    );
    expectOnce(settled, [2]);
  });

  it('a fan-out to two branches acks the source event only after both have, and nacks it if either fails', async () => {
    const { settled } = await settleAll(
      [nodes.forwarder()],
      () => false,
      (net) => {
        net.add('double', nodes.map({ fn: async (n: number) => n * 2, concurrency: 2 }));
        net.add('evens', nodes.where({ fn: (n: number) => n % 2 === 0 }));
        net.add(
          'a',
          nodes.sink({
            fn: (n: number) => {
              if (n === 22) throw new Error('a failed');
            },
          }),
        );
        net.add('b', nodes.discarder());
        net.fanout('n0', 'double', 'evens');
        net.link('double', 'a');
        net.link('evens', 'b');
      },
    );
    expectOnce(settled, [11]);
  });
});
