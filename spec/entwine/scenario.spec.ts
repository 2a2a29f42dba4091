// agglo's entwine example: two substreams A and B anchoring to one ticker, A every 3 messages and
// B every 2 (pkg/entwine/README.md). The ticker runs on a virtual clock behind a real HTTP port.
import type { KeyObject } from 'node:crypto';
import {
  openEntwineStore,
  serveTicker,
  SubstreamWriter,
  Ticker,
  fetchHead,
  type AnchorReceipt,
  type TickerServer,
} from '../../lib/entwine';
import type { KeyValueStore } from '../../lib/state/types';
import { keyPair, tempDir, until, virtualClock } from './helpers';

interface Setup {
  clock: ReturnType<typeof virtualClock>;
  ticker: Ticker;
  server: TickerServer;
  stores: KeyValueStore[];
}

async function startTicker(): Promise<Setup> {
  const clock = virtualClock();
  const ticker = await Ticker.open({ store: await openEntwineStore('memory:'), interval: 1000, scheduler: clock.scheduler });
  ticker.start();
  const server = await serveTicker(ticker, { port: 0 });
  return { clock, ticker, server, stores: [] };
}

/** Advances the ticker's clock one interval and waits for the tick to be stored. */
async function tick(s: Setup): Promise<number> {
  const next = s.ticker.headTick.index + 1;
  s.clock.advance(1000);
  await until(() => s.ticker.headTick.index === next, `tick ${next}`);
  return next;
}

async function writer(s: Setup, id: string, privateKey: KeyObject): Promise<SubstreamWriter> {
  const store = await openEntwineStore('memory:');
  s.stores.push(store);
  const w = await SubstreamWriter.open({ store, substream: id, privateKey });
  w.learnTick(await fetchHead(s.server.url)); // registering: the latest tick is the chain's start
  return w;
}

async function appendN(w: SubstreamWriter, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await w.append({ substream: w.substream, n: w.length }, 0);
}

/** Starts an anchor (it waits for its landing tick) and waits until the ticker accepted it. */
async function anchoring(s: Setup, w: SubstreamWriter): Promise<{ receipt: Promise<AnchorReceipt | undefined> }> {
  const before = s.ticker.waiting;
  const p = w.anchor(s.server.url);
  let failed: unknown;
  p.catch((e: unknown) => (failed = e));
  await until(() => {
    if (failed) throw failed;
    return s.ticker.waiting > before;
  }, `${w.substream}'s anchor to be accepted`);
  return { receipt: p };
}

async function hb(s: Setup, a: string, b: string): Promise<string> {
  const res = await fetch(`${s.server.url}/happened-before?a=${a}&b=${b}`);
  const body = (await res.json()) as { result?: string; error?: string };
  return res.ok ? body.result! : `${res.status} ${body.error}`;
}

describe('entwine: substreams A and B anchored to one ticker', () => {
  let s: Setup;
  afterEach(async () => {
    await s.ticker.stop();
    await s.server.close();
    for (const kv of s.stores) await kv.close();
  });

  it("orders messages as agglo's README describes", async () => {
    s = await startTicker();
    const dir = tempDir();
    const a = await writer(s, 'A', keyPair(dir, 'a').privateKey);
    expect(await tick(s)).toBe(1);
    // T1 < A1 A2 A3
    a.learnTick(await fetchHead(s.server.url));
    await appendN(a, 3);
    expect(await tick(s)).toBe(2);
    // T2 < B1 B2
    const b = await writer(s, 'B', keyPair(dir, 'b').privateKey);
    await appendN(b, 2);
    const a1 = await anchoring(s, a);
    const b1 = await anchoring(s, b);
    expect(await tick(s)).toBe(3);
    // … < T3: both anchors land in tick 3, and both substreams learn it from the receipt.
    expect(await a1.receipt).toMatchObject({ from: 0, to: 2, tick: 3 });
    expect(await b1.receipt).toMatchObject({ from: 0, to: 1, tick: 3 });
    // T3 < A4 A5 A6 < T5 and T3 < B3 B4 < T4
    await appendN(a, 3);
    await appendN(b, 2);
    const b2 = await anchoring(s, b);
    expect(await tick(s)).toBe(4);
    expect(await b2.receipt).toMatchObject({ from: 2, to: 3, tick: 4 });
    const a2 = await anchoring(s, a);
    expect(await tick(s)).toBe(5);
    expect(await a2.receipt).toMatchObject({ from: 3, to: 5, tick: 5 });

    // A1 A2 A3 happened before B3 B4 (indices from 0 here: A:0-2, B:2-3) …
    for (const ai of [0, 1, 2]) for (const bi of [2, 3]) expect(await hb(s, `A:${ai}`, `B:${bi}`)).toBe('before');
    // … and B1 B2 happened before A4 A5 A6.
    for (const bi of [0, 1]) for (const ai of [3, 4, 5]) expect(await hb(s, `B:${bi}`, `A:${ai}`)).toBe('before');
    // The converse question gets the converse answer.
    expect(await hb(s, 'B:3', 'A:0')).toBe('after');
    // Messages anchored in the same intervals are not ordered.
    expect(await hb(s, 'A:0', 'B:0')).toBe('concurrent');
    expect(await hb(s, 'A:3', 'B:2')).toBe('concurrent');
    // Within one substream, the index orders.
    expect(await hb(s, 'A:1', 'A:4')).toBe('before');
    // A message not anchored yet cannot be placed; a malformed question is a 400 with the reason.
    await appendN(a, 1);
    expect(await hb(s, 'A:6', 'B:0')).toMatch(/^404 message A:6 has not been anchored/);
    expect(await hb(s, 'A', 'B:0')).toMatch(/^400 query parameter 'a' must be <substream>:<index>/);
    const status = (await (await fetch(`${s.server.url}/substreams/A`)).json()) as { next: number; anchors: unknown[] };
    expect(status).toMatchObject({
      next: 6,
      anchors: [
        { from: 0, to: 2, tick: 3 },
        { from: 3, to: 5, tick: 5 },
      ],
    });
  });

  it('places every message among many anchors, also those anchored after an earlier question', async () => {
    s = await startTicker();
    const a = await writer(s, 'A', keyPair(tempDir(), 'a').privateKey);
    const expected: { after: number; before: number }[] = [];
    const anchorBatch = async (n: number) => {
      a.learnTick(await fetchHead(s.server.url));
      const after = s.ticker.headTick.index;
      await appendN(a, n);
      const pending = await anchoring(s, a);
      const landed = await tick(s);
      expect(await pending.receipt).toMatchObject({ tick: landed });
      for (let i = 0; i < n; i++) expected.push({ after, before: landed });
    };
    for (const n of [1, 3, 2, 1]) await anchorBatch(n);
    // Asked once (what the ticker read of A's anchors is kept) …
    for (let i = 0; i < expected.length; i++) expect(await s.ticker.bounds({ substream: 'A', index: i })).toEqual(expected[i]);
    // … then A anchors more, through this ticker: the new messages are found too.
    for (const n of [2, 1]) await anchorBatch(n);
    for (let i = 0; i < expected.length; i++) expect(await s.ticker.bounds({ substream: 'A', index: i })).toEqual(expected[i]);
    await expect(s.ticker.bounds({ substream: 'A', index: expected.length })).rejects.toThrow(/has not been anchored/);
    await expect(s.ticker.bounds({ substream: 'Z', index: 0 })).rejects.toThrow(/message Z:0 has not been anchored/);
  });

  it('a restarted ticker continues its chain and the substreams it knows', async () => {
    const dir = tempDir();
    const clock = virtualClock();
    let ticker = await Ticker.open({ store: await openEntwineStore(dir), interval: 1000, scheduler: clock.scheduler });
    ticker.start();
    let server = await serveTicker(ticker, { port: 0 });
    s = { clock, ticker, server, stores: [] };
    const w = await writer(s, 'A', keyPair(dir, 'a').privateKey);
    await appendN(w, 2);
    const r = await anchoring(s, w);
    await tick(s);
    expect(await r.receipt).toMatchObject({ from: 0, to: 1, tick: 1 });
    await ticker.stop();
    await server.close();
    ticker = await Ticker.open({ store: await openEntwineStore(dir), interval: 1000, scheduler: clock.scheduler });
    ticker.start();
    server = await serveTicker(ticker, { port: 0 });
    s = { ...s, ticker, server };
    expect(ticker.headTick.index).toBe(1);
    await appendN(w, 1);
    const r2 = w.anchor(server.url);
    await until(() => ticker.waiting === 1, 'the anchor to be accepted');
    await tick(s);
    expect(await r2).toMatchObject({ from: 2, to: 2, tick: 2 });
  });
});

describe('entwine ticker: a store that fails', () => {
  it('reports the failed tick and makes it at the next interval', async () => {
    const clock = virtualClock();
    const store = await openEntwineStore('memory:');
    let failNext = false;
    const batch = store.batch.bind(store);
    store.batch = (ops) => (failNext ? ((failNext = false), Promise.reject(new Error('disk full'))) : batch(ops));
    const errors: string[] = [];
    const ticker = await Ticker.open({ store, interval: 1000, scheduler: clock.scheduler, onError: (m) => errors.push(m) });
    ticker.start();
    failNext = true;
    clock.advance(1000);
    await until(() => errors.length === 1, 'the failure to be reported');
    expect(errors).toEqual(['tick failed: disk full']);
    expect(ticker.headTick.index).toBe(0);
    clock.advance(1000);
    await until(() => ticker.headTick.index === 1, 'the next tick');
    await ticker.stop();
  });
});
