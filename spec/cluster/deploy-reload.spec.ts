// Hot reload through the group (issue 17): an agent runs a deployed script reading a JetStream
// durable consumer at ~5k events/s; the script is redeployed three times in a row. No event is
// lost, and duplicates stay within the in-flight cap per switch.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { agentCommand } from '../../lib/cli/commands/agent';
import { deploy } from '../../lib/cluster/deploy';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';

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
const TOTAL = 6000;

suite(`redeploying under load against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  let dir: string;
  const group = `spec-reload-${process.pid}-${Date.now()}`;
  const stream = `SPEC_RELOAD_${process.pid}`;
  const subject = `specreload.${process.pid}`;
  beforeAll(async () => {
    nc = await connect({ servers: URL });
    await (await nc.jetstreamManager()).streams.add({ name: stream, subjects: [`${subject}.>`] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-reload-'));
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const s of [stream, `KV_${scriptsBucket(group)}`, `KV_${groupBucket(group)}`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('three redeploys in a row at ~5k events/s: 0 lost, duplicates within the cap', async () => {
    const out = path.join(dir, 'out.ndjson');
    // ackWait 2s: now and then messages the old version's pull had fetched but not yet handed
    // over when it drained come back only after ackWait (nats_source's close of its pull drops
    // them rather than nak them), so with the default 30s the new version waits that long.
    const source = (v: number) =>
      `local tb = require('tributary')\n` +
      `tb.create_nats_source('in', { subject = '${subject}.>', stream = '${stream}', durable = 'reload', url = '${URL}', maxInFlight = ${MAX_IN_FLIGHT}, ackWait = '2s' })\n` +
      `tb.create_map('tag', function(p) return { n = p.n, v = ${v} } end)\n` +
      `tb.create_file_sink('out', '${out}')\ntb.link('in', 'tag')\ntb.link('tag', 'out')\n`;
    const rows = () =>
      (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []).flatMap((l) => {
        try {
          return [JSON.parse(l) as { n: number; v: number }];
        } catch {
          return [];
        }
      });
    await deploy(nc, group, { name: 'reload', format: 'lua', source: source(1) });
    const stop = new AbortController();
    const agent = agentCommand(
      { group, nats: URL, leaseTimeout: '2s', allowFiles: true, logLevel: 'silent', signal: stop.signal },
      { stdout: collector(), stderr: collector() },
    );
    const js = nc.jetstream();
    let published = 0;
    const publishing = (async () => {
      while (published < TOTAL) {
        await Promise.all(Array.from({ length: 25 }, () => js.publish(`${subject}.x`, JSON.stringify({ n: published++ }))));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await until('version 1 processing', () => rows().length > 300);
      for (const v of [2, 3, 4]) await deploy(nc, group, { name: 'reload', format: 'lua', source: source(v) });
      await until('version 4 processing', () => rows().some((r) => r.v === 4));
      await publishing;
      await until('every event in the sink', () => new Set(rows().map((r) => r.n)).size === TOTAL);
    } finally {
      stop.abort();
    }
    expect(await agent).toBe(0);
    const all = rows();
    const distinct = new Set(all.map((r) => r.n));
    const duplicates = all.length - distinct.size;
    const versions = [...new Set(all.map((r) => r.v))];
    console.log(`agent reload: ${TOTAL} events, versions run ${versions.join(',')}, ${duplicates} duplicates (cap ${3 * MAX_IN_FLIGHT})`);
    expect(distinct.size).toBe(TOTAL);
    expect(duplicates).toBeLessThanOrEqual(3 * MAX_IN_FLIGHT);
    const seq = all.map((r) => r.v);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
  }, 120_000);
});
