// `tributary ticker serve` as a real process (start, query, SIGTERM, restart) and
// `tributary entwine verify` exit codes.
import { generateKeyPairSync } from 'node:crypto';
import { main } from '../../lib/cli/program';
import { openEntwineStore, payloadBytes, substreamKeys, SubstreamWriter, fetchHead, type ChainEntry } from '../../lib/entwine';
import { buildDist, start } from '../cli/cli-helpers';
import { freePort } from '../fault/servers';
import { keyPair, tempDir, until } from './helpers';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'tributary', ...args], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

describe('tributary ticker serve', () => {
  beforeAll(() => buildDist(), 300_000);

  it('ticks, answers anchors and happened-before, stops on SIGTERM with exit 0, and a restart continues', async () => {
    const dir = tempDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = ['ticker', 'serve', '--port', String(port), '--interval', '100ms', '--store', `${dir}/ticker`];
    let ticker = start(args);
    await until(
      () =>
        fetchHead(url).then(
          (h) => h.index >= 2,
          () => false,
        ),
      'the ticker to tick twice',
      30_000,
    );
    const { privateKey } = keyPair(dir, 'a');
    const kv = await openEntwineStore(`${dir}/chains`);
    const a = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey });
    const b = await SubstreamWriter.open({ store: kv, substream: 'B', privateKey: generateKeyPairSync('ed25519').privateKey });
    a.learnTick(await fetchHead(url));
    await a.append({ a: 0 }, 0);
    const ra = await a.anchor(url);
    b.learnTick(await fetchHead(url)); // B learns a tick no earlier than the one A's anchor landed in
    await b.append({ b: 0 }, 0);
    const rb = await b.anchor(url);
    expect(rb!.tick).toBeGreaterThan(ra!.tick);
    const hb = (await (await fetch(`${url}/happened-before?a=A:0&b=B:0`)).json()) as { result: string };
    expect(hb.result).toBe('before');
    const bad = await fetch(`${url}/anchor`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);

    ticker.child.kill('SIGTERM');
    const r = await ticker.done;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/tributary ticker: serving on http:\/\/127\.0\.0\.1:\d+/);
    const stoppedAt = Number(/stopped at tick (\d+)/.exec(r.stderr)![1]);
    expect(stoppedAt).toBeGreaterThanOrEqual(rb!.tick);

    ticker = start(args);
    await until(
      () =>
        fetchHead(url).then(
          (h) => h.index > stoppedAt,
          () => false,
        ),
      'the restarted ticker to tick on',
      30_000,
    );
    // It still knows A's anchored chain: the same entries again are refused, the next accepted.
    await a.append({ a: 1 }, 0);
    expect((await a.anchor(url))!.from).toBe(1);
    ticker.child.kill('SIGTERM');
    expect((await ticker.done).code).toBe(0);
    await kv.close();
  }, 120_000);

  it('a bad --interval is a usage error (exit 2)', async () => {
    const r = await cli(['ticker', 'serve', '--port', '0', '--interval', 'soon', '--store', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--interval soon/);
  });
});

describe('tributary entwine verify', () => {
  async function store(): Promise<{ dir: string; pub: string; otherPub: string }> {
    const dir = tempDir();
    const { privateKey, publicPath } = keyPair(dir, 'a');
    const other = keyPair(dir, 'other');
    const kv = await openEntwineStore(`${dir}/chains`);
    const w = await SubstreamWriter.open({ store: kv, substream: 'S', privateKey });
    for (let i = 0; i < 3; i++) await w.append({ i }, 0);
    await kv.close();
    return { dir, pub: publicPath, otherPub: other.publicPath };
  }

  it('exit 0 when intact', async () => {
    const s = await store();
    const r = await cli(['entwine', 'verify', `${s.dir}/chains`, '--public-key', s.pub]);
    expect(r).toEqual({ code: 0, stdout: 'S: intact (3 entries, 0 anchors)\n', stderr: '' });
    const j = await cli(['entwine', 'verify', `${s.dir}/chains`, '--json']);
    expect(JSON.parse(j.stdout)).toEqual([{ ok: true, substream: 'S', entries: 3, anchors: 0 }]);
  });

  it('exit 1 naming the first broken link: a modified payload, a reordered message, a foreign key', async () => {
    const s = await store();
    const kv = await openEntwineStore(`${s.dir}/chains`);
    const keys = substreamKeys('S');
    const e1 = (await kv.get<ChainEntry>(keys.entry(1)))!.value;
    await kv.put(keys.object(e1.payloadDigest), { data: payloadBytes({ i: 100 }).toString('base64'), json: true });
    await kv.close();
    let r = await cli(['entwine', 'verify', `${s.dir}/chains`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^S: BROKEN at entry 1 \(payload\): entry 1: payload modified/);

    const s2 = await store();
    const kv2 = await openEntwineStore(`${s2.dir}/chains`);
    const [x, y] = [(await kv2.get(keys.entry(0)))!.value, (await kv2.get(keys.entry(1)))!.value];
    await kv2.put(keys.entry(0), y);
    await kv2.put(keys.entry(1), x);
    await kv2.close();
    r = await cli(['entwine', 'verify', `${s2.dir}/chains`, '--substream', 'S']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^S: BROKEN at entry 0 \(order\)/);

    r = await cli(['entwine', 'verify', `${s.dir}/chains`, '--public-key', s.otherPub]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^S: BROKEN at entry 0 \(signature\): entry 0: bad signature/);
  });

  it('exit 2 for a store, substream or key that is not there', async () => {
    const s = await store();
    let r = await cli(['entwine', 'verify', `${s.dir}/nowhere`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no substream store at .*nowhere/);
    r = await cli(['entwine', 'verify', `${s.dir}/chains`, '--substream', 'T']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no substream 'T' in .* \(found: S\)/);
    r = await cli(['entwine', 'verify', `${s.dir}/chains`, '--public-key', `${s.dir}/missing.pem`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--public-key: cannot read .*missing\.pem/);
  });
});
