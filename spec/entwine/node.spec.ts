// The `entwine` node kind in a real Network: appends what its condition keeps, passes each event
// on only once its entry is stored, anchors every N entries in the background, and a restarted
// network continues the chain.
import { mkdirSync } from 'node:fs';
import { of, VirtualTimeScheduler } from 'rxjs';
import { Network, nodes, type Logger } from 'tributary';
import { DeliveryProbe } from 'tributary/testing';
import {
  entwine,
  entwinePlugin,
  openEntwineStore,
  readReceipts,
  serveTicker,
  substreamKeys,
  Ticker,
  verifySubstream,
  type ChainEntry,
  type ChainHead,
  type TickerServer,
} from '../../lib/entwine';
import { loadNetworkText } from '../../lib/declarative/load';
import { LuaRuntime } from '../../lib/lua/index';
import { builtinPlugins } from '../../lib/plugins';
import { keyPair, tempDir, until, virtualClock } from './helpers';

function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
}

async function entries(dir: string, id: string): Promise<ChainEntry[]> {
  const kv = await openEntwineStore(dir);
  const out: ChainEntry[] = [];
  for await (const [, v] of kv.list<ChainEntry>(substreamKeys(id).entryPrefix)) out.push(v.value);
  await kv.close();
  return out;
}

/** A ticker on virtual time served on a free port (asking for `token` when given); `stop` ends both. */
async function startTicker(token?: string): Promise<{ server: TickerServer; stop: () => Promise<void> }> {
  const clock = virtualClock();
  const ticker = await Ticker.open({ store: await openEntwineStore('memory:'), interval: 1000, scheduler: clock.scheduler });
  ticker.start();
  const server = await serveTicker(ticker, { port: 0, token });
  // Ticks come when an anchor waits for one: virtual time, advanced by the spec.
  const pump = setInterval(() => ticker.waiting > 0 && clock.advance(1000), 2);
  return {
    server,
    stop: async () => {
      clearInterval(pump);
      await ticker.stop();
      await server.close();
    },
  };
}

describe('entwine node', () => {
  it('appends the events its condition keeps, each passed on (and acked) only once stored', async () => {
    const dir = tempDir();
    const { privatePath, publicKey } = keyPair(dir, 'k');
    const scheduler = new VirtualTimeScheduler();
    scheduler.frame = 5000; // the entries' time comes from the network's scheduler
    const probe = new DeliveryProbe<{ n: number; keep: boolean }>(scheduler);
    const store = `${dir}/chain`;
    const seenAt: { n: number; stored: number }[] = [];
    const net = new Network({ plugins: [entwinePlugin], scheduler, logger: quietLogger() });
    net.add('in', probe.source(of(...[1, 2, 3, 4, 5].map((n) => ({ n, keep: n % 2 === 1 })))));
    net.create('entwine', 'ledger', { store, substream: 'odd', privateKey: privatePath, condition: (p: { keep: boolean }) => p.keep });
    net.add(
      'out',
      nodes.sink({
        fn: async (p: { n: number }) => {
          const kv = await openEntwineStore(store);
          seenAt.push({ n: p.n, stored: ((await kv.get<ChainHead>(substreamKeys('odd').head))?.value.index ?? -1) + 1 });
          await kv.close();
        },
      }),
    );
    net.link('in', 'ledger');
    net.link('ledger', 'out');
    await net.start();
    await until(() => probe.log.length === 5, 'every event settled');
    await net.stop();
    expect(probe.log.map((s) => [s.payload.n, s.acked])).toEqual([1, 2, 3, 4, 5].map((n) => [n, true]));
    // Events pass through unchanged; when one reaches the sink its entry is already stored.
    const kept = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 3 } as Record<number, number>;
    expect(seenAt.map((s) => s.n)).toEqual([1, 2, 3, 4, 5]);
    for (const s of seenAt) expect(s.stored).toBeGreaterThanOrEqual(kept[s.n]);
    const chain = await entries(store, 'odd');
    expect(chain.map((e) => [e.index, e.timestamp, e.tick])).toEqual([
      [0, 5000, -1],
      [1, 5000, -1],
      [2, 5000, -1],
    ]);
    const kv = await openEntwineStore(store);
    expect(await verifySubstream(kv, 'odd', { publicKey })).toMatchObject({ ok: true, entries: 3 });
    await kv.close();
  });

  describe('anchoring to a ticker', () => {
    let server: TickerServer;
    let stop: () => Promise<void>;
    beforeEach(async () => ({ server, stop } = await startTicker()));
    afterEach(() => stop());

    it('anchors every anchorEvery entries, records the receipts, and a restart continues chain and anchors', async () => {
      const dir = tempDir();
      const { privatePath } = keyPair(dir, 'k');
      const run = async (from: number, to: number) => {
        const logger = quietLogger();
        const net = new Network({ plugins: builtinPlugins(), logger });
        const items = Array.from({ length: to - from }, (_, i) => ({ n: from + i }));
        net.create('from', 'in', { items });
        net.add('ledger', entwine({ store: dir, substream: 'S', privateKey: privatePath, ticker: server.url, anchorEvery: 2 }));
        net.create('discarder', 'out');
        net.link('in', 'ledger');
        net.link('ledger', 'out');
        await net.start();
        await net.stop();
        expect(logger.lines).toEqual([]);
      };
      await run(0, 5);
      let kv = await openEntwineStore(dir);
      let receipts = await readReceipts(kv, 'S');
      await kv.close();
      // Anchors run in the background, one at a time: at least entries 0-1 were anchored, each
      // receipt continues the previous one, and every anchored entry is before its landing tick.
      expect(receipts.length).toBeGreaterThanOrEqual(1);
      expect(receipts[0].from).toBe(0);
      for (let i = 1; i < receipts.length; i++) expect(receipts[i].from).toBe(receipts[i - 1].to + 1);
      const anchoredBefore = receipts[receipts.length - 1].to;
      const knownTick = receipts[receipts.length - 1].tick;

      await run(5, 9);
      const chain = await entries(dir, 'S');
      expect(chain.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      kv = await openEntwineStore(dir);
      receipts = await readReceipts(kv, 'S');
      expect(await verifySubstream(kv, 'S')).toMatchObject({ ok: true, entries: 9 });
      await kv.close();
      expect(receipts[receipts.length - 1].to).toBeGreaterThan(anchoredBefore);
      // Entries written after a receipt name its tick (the chain records the ticker's answers):
      // the restarted node's first entry is at least the last tick the first run learnt.
      expect(knownTick).toBeGreaterThan(0);
      expect(chain[5].tick).toBeGreaterThanOrEqual(knownTick);
      // The ticker agrees with the substream's own record.
      const status = (await (await fetch(`${server.url}/substreams/S`)).json()) as { next: number };
      expect(status.next).toBe(receipts[receipts.length - 1].to + 1);
    });

    it('an unreachable ticker does not lose events: they are stored, the failure is logged', async () => {
      const dir = tempDir();
      const { privatePath } = keyPair(dir, 'k');
      const logger = quietLogger();
      const net = new Network({ plugins: [entwinePlugin], logger });
      const probe = new DeliveryProbe<number>(net.scheduler);
      net.add('in', probe.source(of(1, 2, 3)));
      net.create('entwine', 'ledger', {
        store: dir,
        substream: 'S',
        privateKey: privatePath,
        ticker: 'http://127.0.0.1:1',
        anchorEvery: 1,
      });
      net.create('discarder', 'out');
      net.link('in', 'ledger');
      net.link('ledger', 'out');
      await net.start();
      await until(() => probe.log.length === 3, 'every event settled');
      await net.stop();
      expect(probe.log.every((s) => s.acked)).toBe(true);
      expect((await entries(dir, 'S')).length).toBe(3);
      expect(logger.lines.join('\n')).toMatch(
        /node 'ledger': anchor failed \(retried at the next one\): anchor of 'S': ticker http:\/\/127\.0\.0\.1:1\/anchor unreachable/,
      );
    });
  });

  describe('anchoring to a ticker that asks for a bearer token', () => {
    const TOKEN = 'ticker-s3cret-token';
    let server: TickerServer;
    let stop: () => Promise<void>;
    beforeEach(async () => ({ server, stop } = await startTicker(TOKEN)));
    afterEach(() => stop());

    /** Runs 4 events through an entwine node anchoring every 2 entries; returns the log and the receipts. */
    const runWith = async (tickerToken: string | undefined) => {
      const dir = tempDir();
      const { privatePath } = keyPair(dir, 'k');
      const logger = quietLogger();
      const net = new Network({ plugins: builtinPlugins(), logger });
      net.create('from', 'in', { items: [1, 2, 3, 4] });
      net.add('ledger', entwine({ store: dir, substream: 'T', privateKey: privatePath, ticker: server.url, tickerToken, anchorEvery: 2 }));
      net.create('discarder', 'out');
      net.link('in', 'ledger');
      net.link('ledger', 'out');
      await net.start();
      await net.stop();
      const kv = await openEntwineStore(dir);
      const receipts = await readReceipts(kv, 'T');
      const stored = (await entries(dir, 'T')).length;
      await kv.close();
      return { lines: logger.lines, receipts, stored };
    };

    it('anchors with the token; without it or with a wrong one the anchor is refused (401), the entries are kept and the token is never logged', async () => {
      const ok = await runWith(TOKEN);
      expect(ok.lines).toEqual([]);
      expect(ok.receipts.length).toBeGreaterThanOrEqual(1);
      for (const token of [undefined, 'wrong-token']) {
        const refused = await runWith(token);
        expect(refused.stored).toBe(4);
        expect(refused.receipts).toEqual([]);
        expect(refused.lines.join('\n')).toMatch(/anchor failed .*ticker answered 401: anchoring needs a valid bearer token/);
        expect(refused.lines.join('\n')).not.toContain(TOKEN);
      }
    });

    it('answers an anchor without the token 401 asking for a bearer token, and keeps reads open', async () => {
      const post = await fetch(`${server.url}/anchor`, { method: 'POST', body: '{}' });
      expect(post.status).toBe(401);
      expect(post.headers.get('www-authenticate')).toBe('Bearer');
      expect(await post.text()).not.toContain(TOKEN);
      const basic = await fetch(`${server.url}/anchor`, { method: 'POST', body: '{}', headers: { authorization: `Basic ${TOKEN}` } });
      expect(basic.status).toBe(401);
      // With the token the request reaches the checks: an empty proof is refused for what it is.
      const authed = await fetch(`${server.url}/anchor`, { method: 'POST', body: '{}', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(authed.status).toBe(400);
      expect((await fetch(`${server.url}/head`)).status).toBe(200);
    });
  });

  it('takes an agglo condition too', async () => {
    const dir = tempDir();
    const { privatePath } = keyPair(dir, 'k');
    const net = new Network({ plugins: [entwinePlugin], logger: quietLogger() });
    net.create('from', 'in', { items: [{ kind: 'story' }, { kind: 'ad' }, { kind: 'story' }] });
    net.create('entwine', 'ledger', {
      store: dir,
      substream: 'news',
      privateKey: privatePath,
      condition: { expression: { comparator: { lhs: { variable: { name: 'kind' } }, rhs: { literal: 'story' }, op: 'Equal' } } },
    });
    net.create('discarder', 'out');
    net.link('in', 'ledger');
    net.link('ledger', 'out');
    await net.start();
    await net.stop();
    expect((await entries(dir, 'news')).length).toBe(2);
  });

  it('a store it cannot write to: each event becomes an error event naming the node, not a silent loss', async () => {
    const dir = tempDir();
    const { privatePath } = keyPair(dir, 'k');
    const logger = quietLogger();
    const net = new Network({ plugins: [entwinePlugin], logger });
    const probe = new DeliveryProbe<number>(net.scheduler);
    net.add('in', probe.source(of(1)));
    net.create('entwine', 'ledger', { store: `${privatePath}/not-a-dir`, substream: 'S', privateKey: privatePath });
    net.create('discarder', 'out');
    net.link('in', 'ledger');
    net.link('ledger', 'out');
    await net.start();
    await until(() => probe.log.length === 1, 'the event settled');
    await net.stop();
    expect(probe.log[0]).toMatchObject({ acked: false });
    expect(String(probe.log[0].reason)).toMatch(/entwine store: cannot create directory/);
  });

  it('bad options are errors naming the option', () => {
    const dir = tempDir();
    const { privatePath } = keyPair(dir, 'k');
    const net = new Network({ plugins: [entwinePlugin] });
    expect(() => net.create('entwine', 'a', { store: dir, substream: 'S' })).toThrow(/privateKey/);
    expect(() => net.create('entwine', 'c', { store: dir, substream: 'no spaces', privateKey: privatePath })).toThrow(/option 'substream'/);
    expect(() => net.create('entwine', 'd', { store: dir, substream: 'S', privateKey: privatePath, condition: 'x > 1' })).toThrow(
      /option 'condition': must be a function or an agglo condition object/,
    );
    expect(() => net.create('entwine', 'e', { store: dir, substream: 'S', privateKey: privatePath, ticker: 'localhost:8081' })).toThrow(
      /option 'ticker': must be an http/,
    );
    expect(() => net.create('entwine', 'f', { store: dir, substream: 'S', privateKey: privatePath, tickerToken: 'hidden-value' })).toThrow(
      /option 'tickerToken': goes with option 'ticker'/,
    );
    // A token of the wrong type is refused without being shown.
    expect(() =>
      net.create('entwine', 'g', { store: dir, substream: 'S', privateKey: privatePath, ticker: 'http://x', tickerToken: 12345678 }),
    ).toThrow(/option 'tickerToken' must be a string, got a value \(hidden\)/);
  });

  // The key is read when the network starts, as file sources open their files: a script can be
  // built and checked (`tributary check`, the registry's Lua examples) before the key is in place.
  it.each([
    ['missing.pem', /node kind 'entwine': option 'privateKey': cannot read .*missing\.pem \(ENOENT\)/],
    ['k.pub.pem', /not a PEM private key/],
  ])('a key file that is missing or not a private key (%s) stops the start, naming the option', async (file, message) => {
    const dir = tempDir();
    keyPair(dir, 'k');
    const net = new Network({ plugins: [entwinePlugin] });
    net.add('in', nodes.from({ items: [{ n: 1 }] }));
    net.create('entwine', 'ledger', { store: dir, substream: 'S', privateKey: `${dir}/${file}` });
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.link('in', 'ledger').link('ledger', 'out');
    await expect(net.start()).rejects.toThrow(message);
    await net.stop();
  });
});

describe('entwine examples and Lua', () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  it('the TypeScript and Lua examples build one entwine node', () => {
    const dir = tempDir();
    mkdirSync(`${dir}/keys`);
    keyPair(`${dir}/keys`, 'orders');
    process.chdir(dir);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiler, only for this spec
    const ts = require('typescript') as typeof import('typescript');
    const net = new Network({ plugins: [entwinePlugin] });
    new Function('net', 'entwine', ts.transpile(entwine.kind.example, { target: ts.ScriptTarget.ES2022 }))(net, entwine);
    const lua = new LuaRuntime(net, { allowFiles: true });
    try {
      lua.runString(`local tb = require('tributary')\n${entwine.kind.luaExample!.replace('"ledger"', '"ledger2"')}`);
    } finally {
      lua.close();
    }
    expect(net.toJSON().nodes.map((n) => n.kind)).toEqual(['entwine', 'entwine']);
  });

  it('a Lua script can give the condition as a function; a sandboxed one needs --allow-files', async () => {
    const dir = tempDir();
    const { privatePath } = keyPair(dir, 'k');
    const script = `local tb = require('tributary')
tb.create_from("in", { { keep = true, n = 1 }, { keep = false, n = 2 }, { keep = true, n = 3 } })
tb.create_entwine("ledger", { store = "${dir}", substream = "L", privateKey = "${privatePath}", condition = function(p) return p.keep end })
tb.create_discarder("out")
tb.link("in", "ledger")
tb.link("ledger", "out")`;
    const sandboxed = new LuaRuntime(new Network({ plugins: [entwinePlugin] }));
    try {
      expect(() => sandboxed.runString(script)).toThrow(/entwine|files/);
    } finally {
      sandboxed.close();
    }
    const net = new Network({ plugins: builtinPlugins(), logger: quietLogger() });
    const lua = new LuaRuntime(net, { allowFiles: true });
    try {
      lua.runString(script);
      await net.start();
      await net.stop();
    } finally {
      lua.close();
    }
    expect((await entries(dir, 'L')).length).toBe(2);
  });
});

describe('entwine in a declarative network', () => {
  it('takes its options, an agglo condition among them, from YAML', async () => {
    const dir = tempDir();
    const { privatePath } = keyPair(dir, 'k');
    const yaml = `nodes:
  - name: in
    kind: from
    options:
      items: [{ total: 5 }, { total: 0 }, { total: 7 }]
  - name: ledger
    kind: entwine
    options:
      store: ${dir}
      substream: orders
      privateKey: ${privatePath}
      condition: { expression: { comparator: { lhs: { variable: { name: total } }, rhs: { numeric: 0 }, op: GreaterThan } } }
  - name: out
    kind: discarder
edges:
  - { from: in, to: ledger }
  - { from: ledger, to: out }
`;
    const net = new Network({ plugins: builtinPlugins(), logger: quietLogger() });
    loadNetworkText(net, yaml, 'network.yaml', {});
    await net.start();
    await net.stop();
    expect((await entries(dir, 'orders')).length).toBe(2);
  });
});
