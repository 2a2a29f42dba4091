// `tributary run --group` in process against the local NATS server: with --partitions two
// instances split the partitions between them (each node sees its ctx.partition); without,
// the instance runs the whole network and is listed by ps.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../../lib/cli/commands/run';
import { isMissingBucket } from '../../lib/cluster/deploy';
import { readGroup as readBucket } from '../../lib/cluster/group';
import { groupBucket } from '../../lib/cluster/types';
import { collector, natsScratch, poller } from './helpers';
import { collected } from './runner-probe';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const PROBE = path.join(__dirname, 'runner-probe.ts');

/** The group as its bucket shows it; empty before the first member created the bucket. */
const readGroup: typeof readBucket = (nc, group) =>
  readBucket(nc, group).catch((e: unknown) => {
    if (isMissingBucket(e)) return { members: [], leases: [] };
    throw e;
  });

const until = poller(30_000, 50);

suite(`run --group against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  const groups: string[] = [];
  const scratch = natsScratch(URL, 'tributary-rungroup-', { cleanup: () => groups.map((g) => `KV_${groupBucket(g)}`) });

  it('--partitions 4 on two instances: each partition leased once, two on each, nodes see their ctx.partition', async () => {
    const { nc, dir } = scratch;
    const group = `spec-rungroup-${process.pid}-${Date.now()}`;
    groups.push(group);
    const file = path.join(dir, 'parts.lua');
    writeFileSync(
      file,
      "local tb = require('tributary')\ntb.create_partition_source('src', { stay = true })\ntb.create_probe_sink('out', 'parts')\ntb.link('src', 'out')\n",
    );
    const stop = new AbortController();
    const opts = {
      group,
      partitions: 4,
      nats: URL,
      leaseTimeout: '1s',
      plugins: [PROBE],
      logLevel: 'silent' as const,
      quiet: true,
      signal: stop.signal,
    };
    const runs = [
      runCommand([file], opts, { stdout: collector(), stderr: collector() }),
      runCommand([file], opts, { stdout: collector(), stderr: collector() }),
    ];
    try {
      await until('both members holding two partitions', async () => {
        const { members, leases } = await readGroup(nc, group);
        const per = new Map<string, number>();
        for (const l of leases) per.set(l.owner, (per.get(l.owner) ?? 0) + 1);
        return (
          members.length === 2 && leases.length === 4 && [...per.values()].every((n) => n === 2) && (collected.parts?.length ?? 0) >= 4
        );
      });
      const seen = (collected.parts as Array<{ group: string; index: number; count: number; epoch: number }>).slice();
      // (A partition may have started on the first member before the second joined, and moved.)
      expect([...new Set(seen.map((p) => p.index))].sort()).toEqual([0, 1, 2, 3]);
      const { leases } = await readGroup(nc, group);
      expect(leases.map((l) => l.unit).sort()).toEqual(['parts.p0', 'parts.p1', 'parts.p2', 'parts.p3']);
      for (const p of seen) expect(p).toMatchObject({ group, count: 4, epoch: expect.any(Number) });
    } finally {
      stop.abort();
    }
    expect(await Promise.all(runs)).toEqual([0, 0]);
    expect((await readGroup(nc, group)).leases).toEqual([]);
  });

  it('without --partitions the instance runs the whole network and ps lists it', async () => {
    const { nc, dir } = scratch;
    const group = `spec-rungroup-${process.pid}-${Date.now()}-s`;
    groups.push(group);
    const file = path.join(dir, 'whole.lua');
    const out = path.join(dir, 'whole.ndjson');
    writeFileSync(
      file,
      `local tb = require('tributary')\ntb.create_ticker('t', '10ms')\ntb.create_file_sink('out', '${out}')\ntb.link('t', 'out')\n`,
    );
    const stop = new AbortController();
    const run = runCommand(
      [file],
      { group, nats: URL, allowFiles: true, quiet: true, signal: stop.signal },
      { stdout: collector(), stderr: collector() },
    );
    try {
      await until('the network writing', () => existsSync(out) && readFileSync(out, 'utf8').split('\n').length > 3);
      await until('listed in the group', async () => {
        const { members } = await readGroup(nc, group);
        return members.length === 1 && 'whole' in members[0].units;
      });
    } finally {
      stop.abort();
    }
    expect(await run).toBe(0);
    expect((await readGroup(nc, group)).members).toEqual([]);
  });
  it('without --partitions a keyed network read from JetStream is split into 16 partitions, and says so', async () => {
    const { nc, dir } = scratch;
    const group = `spec-rungroup-${process.pid}-${Date.now()}-k`;
    groups.push(group);
    const stream = `RG_${process.pid}_${Date.now()}`;
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [`${stream}.*`] });
    const file = path.join(dir, 'keyed.lua');
    writeFileSync(
      file,
      [
        "local tb = require('tributary')",
        `tb.create_nats_source('in', { subject = '${stream}.*', stream = '${stream}', durable = 'k' })`,
        "tb.create_stateful('sums', 'c', function(s, p) return (s or 0) + 1, nil end)",
        "tb.create_discarder('out')",
        "tb.link('in', 'sums')",
        "tb.link('sums', 'out')",
      ].join('\n'),
    );
    const stop = new AbortController();
    const stderr = collector();
    const run = runCommand(
      [file],
      { group, nats: URL, leaseTimeout: '1s', quiet: true, signal: stop.signal },
      { stdout: collector(), stderr },
    );
    try {
      await until('16 partitions leased', async () => (await readGroup(nc, group)).leases.length === 16);
      const { leases } = await readGroup(nc, group);
      expect(leases.map((l) => l.unit).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `keyed.p${i}`).sort());
      expect(stderr.text()).toContain("node 'sums' keeps keyed state: running the network as 16 partitions");
    } finally {
      stop.abort();
      await run.catch(() => undefined);
      await jsm.streams.delete(stream).catch(() => undefined);
    }
    expect(await run).toBe(0);
  });
});
