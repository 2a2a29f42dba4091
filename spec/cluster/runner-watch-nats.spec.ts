// Hot reload without loss (issue 17): `run --watch` over a JetStream durable consumer while
// events keep arriving; the script is edited twice mid-stream. Every event reaches the sink,
// and only events in flight at a switch may be processed by both versions.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { runCommand } from '../../lib/cli/commands/run';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;

function collector() {
  let text = '';
  return { write: (s: string) => ((text += s), true), text: () => text };
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const MAX_IN_FLIGHT = 64;
const TOTAL = 3000;

suite(`run --watch over JetStream at ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  let dir: string;
  const stream = `SPEC_WATCH_${process.pid}`;
  const subject = `specwatch.${process.pid}`;
  beforeAll(async () => {
    nc = await connect({ servers: URL });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-watchnats-'));
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('redeploying twice under a steady stream loses nothing; duplicates stay within the in-flight cap per switch', async () => {
    const file = path.join(dir, 'net.lua');
    const out = path.join(dir, 'out.ndjson');
    // ackWait 2s: now and then messages the old version's pull had fetched but not yet handed
    // over when it drained come back only after ackWait (nats_source's close of its pull drops
    // them rather than nak them), so with the default 30s the new version waits that long.
    const script = (v: number) =>
      `local tb = require('tributary')\n` +
      `tb.create_nats_source('in', { subject = '${subject}.>', stream = '${stream}', durable = 'watch', url = '${URL}', maxInFlight = ${MAX_IN_FLIGHT}, ackWait = '2s' })\n` +
      `tb.create_map('tag', function(p) return { n = p.n, v = ${v} } end)\n` +
      `tb.create_file_sink('out', '${out}')\ntb.link('in', 'tag')\ntb.link('tag', 'out')\n`;
    writeFileSync(file, script(1));
    const rows = () =>
      (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []).flatMap((l) => {
        try {
          return [JSON.parse(l) as { n: number; v: number }];
        } catch {
          return []; // a line being written
        }
      });
    const stop = new AbortController();
    const stderr = collector();
    const run = runCommand([file], { watch: true, allowFiles: true, quiet: true, signal: stop.signal }, { stdout: collector(), stderr });
    const js = nc.jetstream();
    let published = 0;
    const publishing = (async () => {
      // About 5k events/s: 25 every 5 ms.
      while (published < TOTAL) {
        await Promise.all(Array.from({ length: 25 }, () => js.publish(`${subject}.x`, JSON.stringify({ n: published++ }))));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await until('version 1 processing', () => rows().length > 200);
      writeFileSync(file, script(2));
      await until('version 2 processing', () => rows().some((r) => r.v === 2));
      await until('more published', () => published > TOTAL / 2);
      writeFileSync(file, script(3));
      await until('version 3 processing', () => rows().some((r) => r.v === 3));
      await publishing;
      await until('every event in the sink', () => new Set(rows().map((r) => r.n)).size === TOTAL);
    } finally {
      stop.abort();
    }
    expect(await run).toBe(0);
    const all = rows();
    const distinct = new Set(all.map((r) => r.n));
    const duplicates = all.length - distinct.size;
    console.log(`run --watch: ${TOTAL} events, 2 reloads, ${duplicates} duplicates (cap ${2 * MAX_IN_FLIGHT})`);
    expect(distinct.size).toBe(TOTAL);
    expect(duplicates).toBeLessThanOrEqual(2 * MAX_IN_FLIGHT);
    // Each version drained before the next started: versions appear in order in the sink.
    const versions = all.map((r) => r.v);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(stderr.text()).toContain('version 3 running');
  }, 120_000);
});
