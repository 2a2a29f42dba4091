import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from 'nats';
import { reportFault } from './counts';
import { LineProcess, publishPaced, reloadTally, type OutputLine } from './group-children';
import { until } from './nats-cluster';

/**
 * Issue 17, hot reload: `tributary run --watch net.lua` reads a JetStream durable while events
 * are published at ~5k/s; the script file is rewritten 3 times in a row (each version tags its
 * output). Every event must come out (0 lost), and the events processed by two versions —
 * those in flight at a switch — must stay within the source's in-flight cap per switch. The
 * real CLI (bin/tributary.js, the built bundle) against the shared NATS on a fresh stream.
 */
const BIN = path.join(__dirname, '..', '..', 'bin', 'tributary.js');
const N = 60_000;
const RATE = 5000;
const CAP = 100;
const VERSIONS = ['v1', 'v2', 'v3', 'v4'];

/** True when the built CLI's `run` takes `--watch`. */
function watchSupported(): boolean {
  if (!existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'))) return false;
  const r = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' });
  return /--watch/.test(r.stdout ?? '');
}

const enabled = process.env.TRIBUTARY_NATS_URL !== undefined && watchSupported();
if (!enabled) console.log('hot-reload-watch: set TRIBUTARY_NATS_URL and run `npm run build` (with `run --watch` in the CLI) to run it');
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

suite('tributary run --watch: the script is redeployed 3 times under ~5k events/s', () => {
  it('loses nothing; events processed by two versions stay within the in-flight cap per switch', async () => {
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const stream = `HR_${tag}`;
    const subject = `hr.${tag}`;
    const natsUrl = process.env.TRIBUTARY_NATS_URL!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-hot-reload-'));
    const file = path.join(dir, 'net.lua');
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    const lines: OutputLine[] = [];
    let run: LineProcess | undefined;
    try {
      await jsm.streams.add({ name: stream, subjects: [subject] });
      writeFileSync(file, script(natsUrl, subject, stream, VERSIONS[0]));
      run = new LineProcess(0, process.execPath, [BIN, 'run', '--watch', file], lines);
      let published = 0;
      const publishing = publishPaced(
        nc,
        N,
        RATE,
        (i) => ({ subject, data: { i } }),
        (n) => (published = n),
      );
      const alive = () => {
        if (!run!.running) throw new Error(`tributary run --watch exited early:\n${run!.stderr}`);
      };
      const switchedAt: number[] = [];
      for (let k = 1; k < VERSIONS.length; k++) {
        // Let each version run under load for a while (about 2 s of publishing) before the next edit.
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
        writeFileSync(file, script(natsUrl, subject, stream, VERSIONS[k]));
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
      expect(await run.terminate()).toEqual({ code: 0, signal: null });

      const t = reloadTally(lines, VERSIONS);
      const lost = N - t.received;
      reportFault('hot-reload-watch', {
        sent: N,
        received: t.received,
        lost,
        duplicates: t.duplicates,
        cap: CAP,
        fault: `tributary run --watch, script rewritten 3 times at ${switchedAt.join(', ')} published (~${RATE}/s); duplicates across versions per switch: ${t.perSwitch.join(', ')}; within one version: ${t.sameVersion}`,
      });
      expect(lost).toBe(0);
      expect(t.versions).toEqual(VERSIONS);
      for (const d of t.perSwitch) expect(d).toBeLessThanOrEqual(CAP);
      expect(t.duplicates).toBeLessThanOrEqual(CAP * t.perSwitch.length);
    } finally {
      await run?.kill();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 170_000);
});
