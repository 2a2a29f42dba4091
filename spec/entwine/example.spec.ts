// examples/entwine: two outlets anchoring to one ticker; the ticker orders their stories.
import { outletNetwork } from '../../examples/entwine/outlets';
import { openEntwineStore, readReceipts, serveTicker, Ticker, verifySubstream } from '../../lib/entwine';
import { keyPair, tempDir, until, virtualClock } from './helpers';

describe('examples/entwine', () => {
  it("outlet A's first stories happened before outlet B's later ones; drafts are not in the timeline", async () => {
    const clock = virtualClock();
    const ticker = await Ticker.open({ store: await openEntwineStore('memory:'), interval: 1000, scheduler: clock.scheduler });
    ticker.start();
    const server = await serveTicker(ticker, { port: 0 });
    const pump = setInterval(() => ticker.waiting > 0 && clock.advance(1000), 2);
    const dir = tempDir();
    try {
      const stories = (p: string, n: number) => Array.from({ length: n }, (_, i) => ({ headline: `${p}${i}`, draft: i === 1 }));
      const run = async (outlet: string, n: number, anchorEvery: number) => {
        const { privatePath } = keyPair(dir, outlet);
        const net = outletNetwork({
          outlet,
          stories: stories(outlet, n),
          store: dir,
          privateKey: privatePath,
          ticker: server.url,
          anchorEvery,
        });
        await net.start();
        await net.stop();
      };
      await run('A', 4, 3); // 3 published: anchored at the drain
      await until(() => ticker.waiting === 0, 'the anchors to land');
      await run('B', 3, 2); // 2 published, written after A's anchor landed
      const kv = await openEntwineStore(dir);
      expect(await verifySubstream(kv, 'A')).toMatchObject({ ok: true, entries: 3 });
      expect(await verifySubstream(kv, 'B')).toMatchObject({ ok: true, entries: 2 });
      expect((await readReceipts(kv, 'A')).map((r) => [r.from, r.to])).toEqual([[0, 2]]);
      await kv.close();
      const hb = (await (await fetch(`${server.url}/happened-before?a=A:2&b=B:0`)).json()) as { result: string };
      expect(hb.result).toBe('before');
    } finally {
      clearInterval(pump);
      await ticker.stop();
      await server.close();
    }
  });
});
