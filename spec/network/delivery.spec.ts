import fc from 'fast-check';
import { Network, nodes, type Settlement, type Event } from 'tributary';

/** A source of `count` integers whose every event carries an ack handle we count. */
function countedSource(count: number, maxInFlight?: number) {
  const settled = new Map<number, Settlement[]>();
  let inFlight = 0;
  let maxSeen = 0;
  const node = nodes.from({
    items: (function* () {
      for (let i = 0; i < count; i++) {
        inFlight++;
        maxSeen = Math.max(maxSeen, inFlight);
        yield i;
      }
    })(),
    maxInFlight,
    onSettle: (e: Event, s: Settlement) => {
      inFlight--;
      const list = settled.get(e.payload as number) ?? [];
      list.push(s);
      settled.set(e.payload as number, list);
    },
  });
  return { node, settled, maxInFlight: () => maxSeen };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('delivery through a network', () => {
  it('acks every event exactly once through fan-out, async branches and fan-in (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (count, dropEvery, concurrencies, cap) => {
          const src = countedSource(count, cap);
          const received: number[] = [];
          const net = new Network();
          net.add('in', src.node);
          net.add('fork', nodes.forwarder());
          net.add(
            'out',
            nodes.sink({
              fn: async (n: number) => {
                received.push(n);
                await tick();
              },
              concurrency: 3,
            }),
          );
          net.link('in', 'fork');
          const branches = concurrencies.map((c, i) => {
            const name = `branch${i}`;
            net.add(
              name,
              nodes.map({
                fn: async (n: number) => {
                  await tick();
                  return n;
                },
                concurrency: c,
              }),
            );
            net.add(`${name}_keep`, nodes.where({ fn: (n: number) => n % dropEvery !== 0 }));
            net.link(name, `${name}_keep`);
            return name;
          });
          net.fanout('fork', ...branches);
          net.fanin('out', ...branches.map((b) => `${b}_keep`));
          await net.start();
          const report = await net.done();

          // Every event settled exactly once, and acked: nothing failed.
          expect(src.settled.size).toBe(count);
          for (const [, list] of src.settled) expect(list).toEqual([{ acked: true }]);
          // Every kept copy reached the sink; nothing lost, nothing duplicated.
          const kept = Array.from({ length: count }, (_, i) => i).filter((n) => n % dropEvery !== 0);
          expect(received.sort((a, b) => a - b)).toEqual(kept.flatMap((n) => branches.map(() => n)).sort((a, b) => a - b));
          expect(report.stats.out.acked).toBe(kept.length * branches.length);
          // The source never had more unsettled events than its cap.
          expect(src.maxInFlight()).toBeLessThanOrEqual(cap);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('nacks the source event when one branch fails, after every branch settled', async () => {
    const src = countedSource(2);
    const net = new Network({ logger: { warn: () => undefined, error: () => undefined } });
    net.add('in', src.node);
    net.add('ok', nodes.sink({ fn: () => undefined }));
    net.add(
      'picky',
      nodes.sink({
        fn: (n: number) => {
          if (n === 1) throw new Error('no ones');
        },
      }),
    );
    net.fanout('in', 'ok', 'picky');
    await net.start();
    const report = await net.done();
    expect(src.settled.get(0)).toEqual([{ acked: true }]);
    expect(src.settled.get(1)).toEqual([{ acked: false, reason: new Error('no ones') }]);
    expect(report.stats.picky).toMatchObject({ acked: 1, nacked: 1, errors: 1 });
  });

  it('a slow sink slows the source: unsettled events never exceed maxInFlight', async () => {
    const src = countedSource(1000, 10);
    const release: (() => void)[] = [];
    const net = new Network();
    net.add('in', src.node);
    net.add('slow', nodes.sink({ fn: () => new Promise<void>((r) => release.push(r)), concurrency: 4 }));
    net.link('in', 'slow');
    await net.start();
    let steps = 0;
    while (src.settled.size < 1000 && steps++ < 10_000) {
      await tick();
      // At most 4 calls are running; the other unsettled events wait in the sink's queue.
      expect(release.length).toBeLessThanOrEqual(4);
      release.splice(0).forEach((r) => r());
    }
    await net.done();
    expect(src.settled.size).toBe(1000);
    expect(src.maxInFlight()).toBe(10);
  });
});
