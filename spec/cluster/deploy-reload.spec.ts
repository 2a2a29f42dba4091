// Hot reload through the group (issue 17): an agent runs a deployed script reading a JetStream
// durable consumer at ~5k events/s; the script is redeployed three times in a row. No event is
// lost, and duplicates stay within the in-flight cap per switch.
import * as path from 'node:path';
import { agentCommand } from '../../lib/cli/commands/agent';
import { deploy } from '../../lib/cluster/deploy';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';
import { collector, natsScratch, poller, publishSteady, reloadRows, reloadSource } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const until = poller(60_000, 20);

const MAX_IN_FLIGHT = 64;
const TOTAL = 6000;

suite(`redeploying under load against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  const group = `spec-reload-${process.pid}-${Date.now()}`;
  const stream = `SPEC_RELOAD_${process.pid}`;
  const subject = `specreload.${process.pid}`;
  const scratch = natsScratch(URL, 'tributary-reload-', {
    stream: { name: stream, subjects: [`${subject}.>`] },
    cleanup: () => [stream, `KV_${scriptsBucket(group)}`, `KV_${groupBucket(group)}`],
  });

  it('three redeploys in a row at ~5k events/s: 0 lost, duplicates within the cap', async () => {
    const { nc, dir } = scratch;
    const out = path.join(dir, 'out.ndjson');
    const source = (v: number) => reloadSource({ subject, stream, durable: 'reload', url: URL!, maxInFlight: MAX_IN_FLIGHT, out, v });
    const rows = () => reloadRows(out);
    await deploy(nc, group, { name: 'reload', format: 'lua', source: source(1) });
    const stop = new AbortController();
    const agent = agentCommand(
      { group, nats: URL, leaseTimeout: '2s', allowFiles: true, logLevel: 'silent', signal: stop.signal },
      { stdout: collector(), stderr: collector() },
    );
    const publishing = publishSteady(nc, subject, TOTAL);
    try {
      await until('version 1 processing', () => rows().length > 300);
      for (const v of [2, 3, 4]) await deploy(nc, group, { name: 'reload', format: 'lua', source: source(v) });
      await until('version 4 processing', () => rows().some((r) => r.v === 4));
      await publishing.done;
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
