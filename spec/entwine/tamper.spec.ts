// Tampering is detected: a modified payload, two reordered messages, a forged signature — by
// `verifySubstream` on the store, and by the ticker when such entries come in a proof.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  openEntwineStore,
  payloadBytes,
  publicKeyPem,
  serveTicker,
  sha256Hex,
  signEntry,
  substreamKeys,
  SubstreamWriter,
  Ticker,
  verifySubstream,
  type ChainEntry,
  type TickerServer,
} from '../../lib/entwine';
import type { KeyValueStore } from '../../lib/state/types';
import { keyPair, tempDir, until, virtualClock } from './helpers';

const keys = substreamKeys('A');

async function chain(n: number, privateKey: KeyObject): Promise<{ kv: KeyValueStore; dir: string; entries: ChainEntry[] }> {
  const dir = tempDir();
  const kv = await openEntwineStore(dir);
  const w = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey });
  const entries: ChainEntry[] = [];
  for (let i = 0; i < n; i++) entries.push(await w.append({ story: `s${i}` }, 1000 + i));
  return { kv, dir, entries };
}

/** Entry `e` re-signed after `change` (its digest recomputed), as someone holding `key` would. */
function resign(e: ChainEntry, key: KeyObject, change: Partial<ChainEntry> = {}): ChainEntry {
  const { substream, index, timestamp, prev, payloadDigest, tick, tickDigest } = { ...e, ...change };
  return signEntry({ substream, index, timestamp, prev, payloadDigest, tick, tickDigest }, key);
}

describe('entwine verify: the first broken link', () => {
  const owner = generateKeyPairSync('ed25519');
  let kv: KeyValueStore;
  afterEach(async () => kv.close());

  it('an untouched substream is intact', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    expect(await verifySubstream(kv, 'A', { publicKey: owner.publicKey })).toEqual({ ok: true, substream: 'A', entries: 5, anchors: 0 });
  });

  it('a modified payload: digest mismatch at its entry', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    await kv.put(keys.object(c.entries[2].payloadDigest), { data: payloadBytes({ story: 'rewritten' }).toString('base64'), json: true });
    expect(await verifySubstream(kv, 'A')).toMatchObject({
      ok: false,
      index: 2,
      broken: 'payload',
      reason: expect.stringMatching(/payload modified/),
    });
  });

  it('two messages swapped: index mismatch where the order breaks', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    await kv.put(keys.entry(1), c.entries[2]);
    await kv.put(keys.entry(2), c.entries[1]);
    expect(await verifySubstream(kv, 'A')).toMatchObject({
      ok: false,
      index: 1,
      broken: 'order',
      reason: expect.stringMatching(/expected entry 1, found entry 2/),
    });
  });

  it('a missing message: the next one does not follow', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    await kv.delete(keys.entry(3));
    expect(await verifySubstream(kv, 'A')).toMatchObject({ ok: false, index: 3, broken: 'order' });
  });

  it('a forged signature: an entry re-signed by another key, with the payload it now points to', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    const forger = generateKeyPairSync('ed25519');
    const bytes = payloadBytes({ story: 'forged' });
    await kv.put(keys.object(sha256Hex(bytes)), { data: bytes.toString('base64'), json: true });
    await kv.put(keys.entry(3), resign(c.entries[3], forger.privateKey, { payloadDigest: sha256Hex(bytes) }));
    const expected = { ok: false, index: 3, broken: 'signature', reason: 'entry 3: bad signature' };
    expect(await verifySubstream(kv, 'A', { publicKey: owner.publicKey })).toMatchObject(expected);
    // Without --public-key, the key the writer recorded in the store is used.
    expect(await verifySubstream(kv, 'A')).toMatchObject(expected);
  });

  it('a truncated chain: the head names an entry that is gone', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    await kv.delete(keys.entry(4));
    expect(await verifySubstream(kv, 'A')).toMatchObject({ ok: false, broken: 'head' });
  });

  it('restart continues the chain: indices and links run on across writers', async () => {
    const c = await chain(3, owner.privateKey);
    kv = c.kv;
    const w = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey: owner.privateKey });
    expect(w.length).toBe(3);
    const e3 = await w.append({ story: 's3' }, 2000);
    expect(e3).toMatchObject({ index: 3, prev: c.entries[2].digest });
    expect(await verifySubstream(kv, 'A', { publicKey: owner.publicKey })).toMatchObject({ ok: true, entries: 4 });
    // Another key cannot take the substream over.
    await expect(
      SubstreamWriter.open({ store: kv, substream: 'A', privateKey: generateKeyPairSync('ed25519').privateKey }),
    ).rejects.toThrow(/signed with another key/);
  });
});

describe('entwine ticker: proofs that do not hold are refused with 400 and the reason', () => {
  const owner = generateKeyPairSync('ed25519');
  let ticker: Ticker;
  let server: TickerServer;
  let clock: ReturnType<typeof virtualClock>;
  let kv: KeyValueStore;
  beforeEach(async () => {
    clock = virtualClock();
    ticker = await Ticker.open({ store: await openEntwineStore('memory:'), interval: 1000, scheduler: clock.scheduler });
    ticker.start();
    server = await serveTicker(ticker, { port: 0 });
  });
  afterEach(async () => {
    await ticker.stop();
    await server.close();
    await kv?.close();
  });

  const post = async (body: unknown, publicKey: KeyObject = owner.publicKey) => {
    const res = await fetch(`${server.url}/anchor`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify({ substream: 'A', publicKey: publicKeyPem(publicKey), entries: body }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; tick?: { index: number } } };
  };
  /** Posts a proof that should be accepted; ticks so it lands. */
  const accepted = async (entries: ChainEntry[]) => {
    const p = post(entries);
    await until(() => ticker.waiting === 1, 'the anchor to be accepted');
    clock.advance(1000);
    const r = await p;
    expect(r.status).toBe(200);
    return r;
  };

  it('a tampered entry (payload digest changed, not re-signed)', async () => {
    const c = await chain(3, owner.privateKey);
    kv = c.kv;
    const tampered = { ...c.entries[1], payloadDigest: sha256Hex(Buffer.from('other')) };
    expect(await post([c.entries[0], tampered, c.entries[2]])).toEqual({
      status: 400,
      body: { error: 'entries[1]: signature: entry 1: bad signature' },
    });
  });

  it('two entries reordered', async () => {
    const c = await chain(3, owner.privateKey);
    kv = c.kv;
    const r = await post([c.entries[0], c.entries[2], c.entries[1]]);
    expect(r).toEqual({ status: 400, body: { error: expect.stringMatching(/^entries\[1\]: order: expected entry 1, found entry 2/) } });
  });

  it('a forged signature, and a key other than the one the substream registered with', async () => {
    const c = await chain(4, owner.privateKey);
    kv = c.kv;
    await accepted(c.entries.slice(0, 2));
    const forger = generateKeyPairSync('ed25519');
    const forged = resign(c.entries[2], forger.privateKey);
    expect((await post([forged, resign(c.entries[3], forger.privateKey, { prev: forged.digest })])).body.error).toMatch(/bad signature/);
    expect((await post([forged], forger.publicKey)).body.error).toMatch(
      /publicKey: differs from the key substream 'A' first anchored with/,
    );
  });

  it('history rewritten after anchoring (a fork): the next proof does not continue the anchored chain', async () => {
    const c = await chain(5, owner.privateKey);
    kv = c.kv;
    await accepted(c.entries.slice(0, 3));
    // The owner rewrites entry 2 and re-links the rest: each entry is validly signed, but entry 3
    // no longer follows what the ticker anchored.
    const e2 = resign(c.entries[2], owner.privateKey, { payloadDigest: sha256Hex(Buffer.from('rewritten')) });
    const e3 = resign(c.entries[3], owner.privateKey, { prev: e2.digest });
    expect((await post([e3])).body.error).toMatch(/prev digest does not match the last anchored entry 2 of 'A' \(a fork or a rewrite\)/);
    // Skipping or repeating indices is refused as well.
    expect((await post([c.entries[4]])).body.error).toMatch(/index 4 does not continue substream 'A' \(the next index is 3\)/);
    expect((await post([c.entries[2]])).body.error).toMatch(/index 2 does not continue/);
    // The honest continuation is accepted.
    expect((await accepted(c.entries.slice(3))).body.tick?.index).toBe(2);
  });

  it('a tick reference the ticker never made', async () => {
    const c = await chain(1, owner.privateKey);
    kv = c.kv;
    const lying = resign(c.entries[0], owner.privateKey, { tick: 0, tickDigest: sha256Hex(Buffer.from('guess')) });
    expect((await post([lying])).body.error).toMatch(/tick 0 with that digest was never made by this ticker/);
  });

  it('bad requests', async () => {
    expect(await post('{nope')).toEqual({ status: 400, body: { error: expect.stringMatching(/^body is not JSON/) } });
    expect((await post('{"substream":"A"}')).body.error).toMatch(/publicKey/);
    expect((await post([])).body.error).toBe('entries: must be a non-empty array');
    expect((await post('{"substream":"a b"}')).body.error).toMatch(/^substream: must be/);
  });

  it('verify sees a rewrite after anchoring through the recorded receipt', async () => {
    const dir = tempDir();
    const { privateKey } = keyPair(dir, 'a');
    kv = await openEntwineStore(dir);
    const w = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey });
    for (let i = 0; i < 3; i++) await w.append({ i }, 0);
    const p = w.anchor(server.url);
    await until(() => ticker.waiting === 1, 'the anchor to be accepted');
    clock.advance(1000);
    expect(await p).toMatchObject({ from: 0, to: 2, tick: 1 });
    // Rewrite the whole chain consistently with the owner's key: only the receipt betrays it.
    let prev = '0'.repeat(64);
    for (let i = 0; i < 3; i++) {
      const bytes = payloadBytes({ i: i * 10 });
      const e = (await kv.get<ChainEntry>(keys.entry(i)))!.value;
      const r = resign(e, privateKey, { prev, payloadDigest: sha256Hex(bytes) });
      await kv.put(keys.object(r.payloadDigest), { data: bytes.toString('base64'), json: true });
      await kv.put(keys.entry(i), r);
      prev = r.digest;
    }
    await kv.put(keys.head, { index: 2, digest: prev });
    expect(await verifySubstream(kv, 'A')).toMatchObject({
      ok: false,
      index: 2,
      broken: 'head',
      reason: expect.stringMatching(/differs from what was anchored in tick 1/),
    });
  });
});

describe('entwine writer: a long backlog', () => {
  it('goes to the ticker in proofs of at most maxProofEntries, each continuing the last', async () => {
    const clock = virtualClock();
    const ticker = await Ticker.open({ store: await openEntwineStore('memory:'), interval: 1000, scheduler: clock.scheduler });
    ticker.start();
    const server = await serveTicker(ticker, { port: 0 });
    const kv = await openEntwineStore('memory:');
    try {
      const w = await SubstreamWriter.open({
        store: kv,
        substream: 'A',
        privateKey: generateKeyPairSync('ed25519').privateKey,
        maxProofEntries: 2,
      });
      for (let i = 0; i < 5; i++) await w.append({ i }, 0);
      const got: [number, number][] = [];
      while (w.unanchored > 0) {
        const p = w.anchor(server.url);
        await until(() => ticker.waiting === 1, 'the anchor to be accepted');
        clock.advance(1000);
        const r = (await p)!;
        got.push([r.from, r.to]);
      }
      expect(got).toEqual([
        [0, 1],
        [2, 3],
        [4, 4],
      ]);
    } finally {
      await ticker.stop();
      await server.close();
      await kv.close();
    }
  });
});
