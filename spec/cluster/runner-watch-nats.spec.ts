// Hot reload without loss (issue 17): `run --watch` over a JetStream durable consumer while
// events keep arriving; the script is edited twice mid-stream. Every event reaches the sink,
// and only events in flight at a switch may be processed by both versions.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../lib/cli/commands/run';
import { collector, natsScratch, poller, publishSteady, reloadRows, reloadSource } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const until = poller(60_000, 20);

const MAX_IN_FLIGHT = 64;
const TOTAL = 3000;

suite(`run --watch over JetStream at ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  const stream = `SPEC_WATCH_${process.pid}`;
  const subject = `specwatch.${process.pid}`;
  const scratch = natsScratch(URL, 'tributary-watchnats-', {
    stream: { name: stream, subjects: [`${subject}.>`] },
    cleanup: () => [stream],
  });

  it('redeploying twice under a steady stream loses nothing; duplicates stay within the in-flight cap per switch', async () => {
    const { nc, dir } = scratch;
    const file = path.join(dir, 'net.lua');
    const out = path.join(dir, 'out.ndjson');
    const script = (v: number) => reloadSource({ subject, stream, durable: 'watch', url: URL!, maxInFlight: MAX_IN_FLIGHT, out, v });
    writeFileSync(file, script(1));
    const rows = () => reloadRows(out);
    const stop = new AbortController();
    const stderr = collector();
    const run = runCommand([file], { watch: true, allowFiles: true, quiet: true, signal: stop.signal }, { stdout: collector(), stderr });
    const publishing = publishSteady(nc, subject, TOTAL);
    try {
      await until('version 1 processing', () => rows().length > 200);
      writeFileSync(file, script(2));
      await until('version 2 processing', () => rows().some((r) => r.v === 2));
      await until('more published', () => publishing.published() > TOTAL / 2);
      writeFileSync(file, script(3));
      await until('version 3 processing', () => rows().some((r) => r.v === 3));
      await publishing.done;
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
