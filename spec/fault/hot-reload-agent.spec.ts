import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from 'nats';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';
import { reportFault } from './counts';
import { LineProcess, publishPaced, reloadTally, type OutputLine } from './group-children';
import { until } from './nats-cluster';

/**
 * Issue 17, hot reload through the catalog: `tributary agent --group g` runs what
 * `tributary deploy` stored; while events are published at ~5k/s the script is deployed again
 * 3 times in a row (each version tags its output). Every event must come out (0 lost), and the
 * events processed by two versions — those in flight at a switch — must stay within the
 * source's in-flight cap per switch. The real CLI (bin/tributary.js, the built bundle) against
 * the shared NATS on a fresh stream and fresh buckets.
 */
const BIN = path.join(__dirname, '..', '..', 'bin', 'tributary.js');
const N = 60_000;
const RATE = 5000;
const CAP = 100;
const VERSIONS = ['v1', 'v2', 'v3', 'v4'];

/** True when the built CLI has `agent` and `deploy`. */
function agentSupported(): boolean {
  if (!existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'))) return false;
  // An unknown command prints the general help: look for the command's own usage line.
  return ['agent', 'deploy'].every((c) =>
    spawnSync(process.execPath, [BIN, c, '--help'], { encoding: 'utf8' }).stdout.includes(`tributary ${c}`),
  );
}

const enabled = process.env.TRIBUTARY_NATS_URL !== undefined && agentSupported();
if (!enabled)
  console.log('hot-reload-agent: set TRIBUTARY_NATS_URL and run `npm run build` (with `agent` and `deploy` in the CLI) to run it');
const suite = enabled ? describe : describe.skip;

function script(natsUrl: string, subject: string, stream: string, version: string): string {
  return [
    'local tb = require("tributary")',
    `tb.create_nats_source("in", { url = ${JSON.stringify(natsUrl)}, subject = ${JSON.stringify(subject)}, stream = ${JSON.stringify(stream)}, durable = "hr", max_in_flight = ${CAP}, ack_wait = "5s", nack_delay = "0s" })`,
    `tb.create_map("tag", function(e) return { i = e.i, v = ${JSON.stringify(version)} } end)`,
    'tb.create_stdout_sink("out")',
    'tb.link("in", "tag")',
    'tb.link("tag", "out")',
    '',
  ].join('\n');
}

suite('tributary agent: the script is deployed again 3 times under ~5k events/s', () => {
  it('loses nothing; events processed by two versions stay within the in-flight cap per switch', async () => {
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const group = `hra_${tag}`;
    const stream = `HRA_${tag}`;
    const subject = `hra.${tag}`;
    const natsUrl = process.env.TRIBUTARY_NATS_URL!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-hot-reload-agent-'));
    const file = path.join(dir, 'tagger.lua');
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    const lines: OutputLine[] = [];
    let agent: LineProcess | undefined;
    const deploy = (version: string) => {
      writeFileSync(file, script(natsUrl, subject, stream, version));
      const r = spawnSync(process.execPath, [BIN, 'deploy', file, '--name', 'tagger', '--group', group], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tributary deploy (${version}) exited ${r.status}: ${r.stderr}`);
    };
    try {
      await jsm.streams.add({ name: stream, subjects: [subject] });
      deploy(VERSIONS[0]);
      agent = new LineProcess(0, process.execPath, [BIN, 'agent', '--group', group, '--lease-timeout', '5s'], lines);
      let published = 0;
      const publishing = publishPaced(
        nc,
        N,
        RATE,
        (i) => ({ subject, data: { i } }),
        (n) => (published = n),
      );
      const alive = () => {
        if (!agent!.running) throw new Error(`tributary agent exited early:\n${agent!.stderr}`);
      };
      const switchedAt: number[] = [];
      for (let k = 1; k < VERSIONS.length; k++) {
        const target = Math.min(N, published + 2 * RATE);
        await until(`the publisher reached ${target}`, 60_000, async () => {
          alive();
          if (published < target) throw new Error(`${published}`);
        });
        await until(`version ${VERSIONS[k - 1]} printed`, 30_000, async () => {
          alive();
          if (!lines.some((l) => l.payload.v === VERSIONS[k - 1])) throw new Error('not yet');
        });
        switchedAt.push(published);
        deploy(VERSIONS[k]);
        await until(`version ${VERSIONS[k]} took over`, 30_000, async () => {
          alive();
          if (!lines.some((l) => l.payload.v === VERSIONS[k])) throw new Error('not yet');
        });
      }
      await publishing;
      await until('every event came out', 120_000, async () => {
        alive();
        const info = await jsm.consumers.info(stream, 'hr');
        const unique = new Set(lines.map((l) => l.i)).size;
        if (unique < N || info.num_pending + info.num_ack_pending > 0) {
          throw new Error(`${unique} of ${N} out; ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
        }
      });
      expect(await agent.terminate()).toEqual({ code: 0, signal: null });

      const t = reloadTally(lines, VERSIONS);
      const lost = N - t.received;
      reportFault('hot-reload-agent', {
        sent: N,
        received: t.received,
        lost,
        duplicates: t.duplicates,
        cap: CAP,
        fault: `tributary agent, script deployed again 3 times at ${switchedAt.join(', ')} published (~${RATE}/s); duplicates across versions per switch: ${t.perSwitch.join(', ')}; within one version: ${t.sameVersion}`,
      });
      expect(lost).toBe(0);
      expect(t.versions).toEqual(VERSIONS);
      for (const d of t.perSwitch) expect(d).toBeLessThanOrEqual(CAP);
      expect(t.duplicates).toBeLessThanOrEqual(CAP * t.perSwitch.length);
    } finally {
      await agent?.kill();
      for (const s of [stream, `KV_${groupBucket(group)}`, `KV_${scriptsBucket(group)}`])
        await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 170_000);
});
