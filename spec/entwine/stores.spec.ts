// A substream and a ticker on server stores (state store URLs): runs where the server is
// configured (TRIBUTARY_PG_URL, TRIBUTARY_MYSQL_URL, TRIBUTARY_REDIS_URL), skips otherwise.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  openEntwineStore,
  payloadBytes,
  substreamKeys,
  SubstreamWriter,
  Ticker,
  verifySubstream,
  type ChainEntry,
} from '../../lib/entwine';
import { virtualClock, until } from './helpers';

const servers = [
  { name: 'PostgreSQL', url: process.env.TRIBUTARY_PG_URL },
  { name: 'MariaDB', url: process.env.TRIBUTARY_MYSQL_URL },
  { name: 'Redis', url: process.env.TRIBUTARY_REDIS_URL },
].filter((s) => s.url);

const describeIf = servers.length ? describe.each(servers) : describe.skip.each([{ name: 'no server configured', url: '' }]);

describeIf('entwine on $name', ({ url }) => {
  it('appends, continues after reopening, and verify finds a modified payload', async () => {
    const id = `s-${randomUUID().slice(0, 8)}`;
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    let kv = await openEntwineStore(url!);
    try {
      const w = await SubstreamWriter.open({ store: kv, substream: id, privateKey });
      for (let i = 0; i < 3; i++) await w.append({ i }, i);
      await kv.close();
      kv = await openEntwineStore(url!);
      const again = await SubstreamWriter.open({ store: kv, substream: id, privateKey });
      expect((await again.append({ i: 3 }, 3)).index).toBe(3);
      expect(await verifySubstream(kv, id, { publicKey })).toMatchObject({ ok: true, entries: 4 });
      const keys = substreamKeys(id);
      const e2 = (await kv.get<ChainEntry>(keys.entry(2)))!.value;
      await kv.put(keys.object(e2.payloadDigest), { data: payloadBytes({ i: 99 }).toString('base64'), json: true });
      expect(await verifySubstream(kv, id, { publicKey })).toMatchObject({ ok: false, index: 2, broken: 'payload' });
    } finally {
      await kv.close();
    }
  });

  it('a ticker keeps its chain there', async () => {
    const clock = virtualClock();
    const kv = await openEntwineStore(url!);
    try {
      const ticker = await Ticker.open({ store: kv, interval: 1000, scheduler: clock.scheduler });
      const start = ticker.headTick.index;
      ticker.start();
      clock.advance(1000);
      await until(() => ticker.headTick.index === start + 1, 'a tick');
      await ticker.stop();
      const reopened = await Ticker.open({ store: kv, interval: 1000, scheduler: clock.scheduler });
      expect(reopened.headTick).toEqual(ticker.headTick);
    } finally {
      await kv.close();
    }
  });
});
