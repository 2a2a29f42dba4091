// Replica counts of a group's NATS KV buckets (`replicas`, `--replicas`; docs/scale-out.md,
// "Replicated buckets"): bad values are refused naming the option or flag and the range (no
// server needed); against the local single-server NATS, more than one replica is refused with
// an error that says a cluster is needed, and a bucket that exists with another count is
// refused naming the bucket and both counts. The replicated case itself runs on a 3-node
// cluster in spec/fault/group-nats-cluster.spec.ts.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { agentCommand } from '../../lib/cli/commands/agent';
import { deployCommand } from '../../lib/cli/commands/deploy';
import { runCommand } from '../../lib/cli/commands/run';
import { main } from '../../lib/cli/program';
import { checkReplicas } from '../../lib/cluster/buckets';
import { kvCatalog } from '../../lib/cluster/catalog';
import { deploy, scriptsKv } from '../../lib/cluster/deploy';
import { GroupMember } from '../../lib/cluster/group';
import { groupBucket, scriptsBucket } from '../../lib/cluster/types';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
jest.setTimeout(30_000);

const BAD = [0, 6, 1.5, Number.NaN];
const logger = { warn: () => undefined, error: () => undefined };
const catalog = { subscribe: () => () => undefined, close: () => Promise.resolve() };
const factory = { prepare: () => Promise.reject(new Error('unused')) };
const io = () => {
  let err = '';
  return { stdout: { write: () => true }, stderr: { write: (s: string) => ((err += s), true) }, text: () => err };
};

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  const out = io();
  const code = await main(['node', 'tributary', ...args], out);
  return { code, stderr: out.text() };
}

describe('replicas: bad values are refused naming the option and the range', () => {
  it('checkReplicas takes 1 to 5', () => {
    for (const n of [1, 2, 3, 4, 5]) expect(checkReplicas(n, "option 'replicas'")).toBe(n);
    for (const n of [...BAD, '3', undefined]) {
      expect(() => checkReplicas(n, "option 'replicas'")).toThrow(/^option 'replicas' must be a whole number from 1 to 5 .*, got /);
    }
    expect(() => checkReplicas('x', '--replicas')).toThrow(
      "--replicas must be a whole number from 1 to 5 (copies of the group's NATS buckets), got 'x'",
    );
  });

  it('GroupMember, kvCatalog, scriptsKv and deploy refuse them before connecting', async () => {
    const nc = {} as NatsConnection; // never used: the check comes first
    for (const replicas of BAD) {
      expect(() => new GroupMember({ nats: 'nats://x', group: 'g', catalog, factory, replicas })).toThrow(
        /^GroupMember: option 'replicas' must be a whole number from 1 to 5 .*, got (0|6|1\.5|NaN)$/,
      );
      expect(() => kvCatalog(nc, 'g', { replicas })).toThrow(/kvCatalog: option 'replicas' must be a whole number from 1 to 5/);
      await expect(scriptsKv(nc, 'g', { replicas })).rejects.toThrow(/option 'replicas' must be a whole number from 1 to 5/);
      await expect(deploy(nc, 'g', { name: 'a', format: 'lua', source: '' }, { replicas })).rejects.toThrow(
        /option 'replicas' must be a whole number from 1 to 5/,
      );
    }
    expect(() => new GroupMember({ nats: 'nats://x', group: 'g', catalog, factory, replicas: 5 })).not.toThrow();
  });

  it('the CLI flag --replicas on run, deploy and agent: exit 2 naming the flag and the range', async () => {
    for (const v of ['0', '6', '1.5', 'x', '']) {
      for (const args of [
        ['run', 'net.lua', '--group', 'g'],
        ['deploy', 'net.lua', '--group', 'g'],
        ['agent', '--group', 'g'],
      ]) {
        const r = await cli(...args, '--replicas', v);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`--replicas must be a whole number from 1 to 5 (copies of the group's NATS buckets), got `);
      }
    }
    expect((await cli('run', 'net.lua', '--group', 'g', '--replicas', '6')).stderr).toContain('got 6\n');
    expect((await cli('run', 'net.lua', '--group', 'g', '--replicas', 'x')).stderr).toContain("got 'x'\n");
    const r = await cli('run', 'net.lua', '--replicas', '3');
    expect(r).toEqual({ code: 2, stderr: 'tributary: --replicas needs --group <name>\n' });
  });

  it('the commands called in process refuse them as usage errors too', async () => {
    const quiet = io();
    for (const replicas of BAD) {
      const usage = expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(/^--replicas must be a whole number from 1 to 5/),
      });
      await expect(agentCommand({ group: 'g', replicas }, quiet)).rejects.toEqual(usage);
      await expect(runCommand(['net.lua'], { group: 'g', replicas }, quiet)).rejects.toEqual(usage);
      await expect(deployCommand('net.lua', { group: 'g', replicas }, quiet)).rejects.toEqual(usage);
    }
  });
});

suite(`replicas against the single NATS server at ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  let dir: string;
  const groups: string[] = [];
  const newGroup = () => {
    const g = `spec-rep-${randomUUID().slice(0, 8)}`;
    groups.push(g);
    return g;
  };
  const replicasOf = async (bucket: string) => (await (await nc.jetstreamManager()).streams.info(`KV_${bucket}`)).config.num_replicas;
  const exists = async (bucket: string) =>
    (await nc.jetstreamManager()).streams.info(`KV_${bucket}`).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    nc = await connect({ servers: URL });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-replicas-'));
    writeFileSync(
      path.join(dir, 'net.lua'),
      "local tb = require('tributary')\ntb.create_ticker('t', '50ms')\ntb.create_sink('out', function() end)\ntb.link('t', 'out')\n",
    );
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const g of groups) for (const b of [groupBucket(g), scriptsBucket(g)]) await jsm.streams.delete(`KV_${b}`).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a member asking for 3 replicas is refused: the error says a cluster of 3 servers is needed; no bucket is made', async () => {
    const group = newGroup();
    const m = new GroupMember({ nats: URL!, group, catalog, factory, leaseTimeout: '2s', logger, replicas: 3 });
    const err = await m.start().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await m.stop();
    expect(err?.message).toMatch(
      new RegExp(
        `^group '${group}' member '[^']+': cannot open bucket '${groupBucket(group)}' at nats://127\\.0\\.0\\.1:4222: bucket '${groupBucket(group)}' cannot be made with 3 replicas: that needs a NATS JetStream cluster of at least 3 servers \\(NATS says: replicas > 1 not supported in non-clustered mode\\)$`,
      ),
    );
    expect(await exists(groupBucket(group))).toBe(false);
  });

  it('a bucket that exists with 1 replica: asking for 1 (or nothing) opens it, asking for 2 is refused naming the bucket and both counts', async () => {
    const group = newGroup();
    const first = new GroupMember({ nats: URL!, group, catalog, factory, leaseTimeout: '2s', logger, replicas: 1, memberId: 'a' });
    await first.start();
    try {
      expect(await replicasOf(groupBucket(group))).toBe(1);
      const same = new GroupMember({ nats: URL!, group, catalog, factory, leaseTimeout: '2s', logger, memberId: 'b' });
      await same.start();
      await same.stop();
      const other = new GroupMember({ nats: URL!, group, catalog, factory, leaseTimeout: '2s', logger, replicas: 2, memberId: 'c' });
      await expect(other.start()).rejects.toThrow(
        `bucket '${groupBucket(group)}' exists with 1 replica, but 2 replicas were asked for: ask for 1 (or leave the count out to use the bucket as it is), or change the bucket first (nats stream edit KV_${groupBucket(group)} --replicas 2)`,
      );
      await other.stop();
      expect(await replicasOf(groupBucket(group))).toBe(1);
    } finally {
      await first.stop();
    }
  });

  it('the CLI: run --group, run --group --partitions, agent and deploy with --replicas 3 exit 1 with that error; deploy stores nothing', async () => {
    const file = path.join(dir, 'net.lua');
    const group = newGroup();
    const needs = (bucket: string) =>
      `bucket '${bucket}' cannot be made with 3 replicas: that needs a NATS JetStream cluster of at least 3 servers (NATS says: replicas > 1 not supported in non-clustered mode)`;
    for (const args of [
      ['run', file, '--group', group, '--for', '5s'],
      ['run', file, '--group', group, '--partitions', '2', '--for', '5s'],
      ['agent', '--group', group, '--for', '5s'],
    ]) {
      const r = await cli(...args, '--nats', URL!, '--replicas', '3', '--log-level', 'silent');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(needs(args[0] === 'agent' ? scriptsBucket(group) : groupBucket(group)));
    }
    const d = await cli('deploy', file, '--group', group, '--nats', URL!, '--replicas', '3');
    expect(d.code).toBe(1);
    expect(d.stderr).toContain(needs(scriptsBucket(group)));
    expect(await exists(scriptsBucket(group))).toBe(false);
    expect(await exists(groupBucket(group))).toBe(false);
  });

  it('the CLI: deploy to an R1 scripts bucket with --replicas 1 works; an agent asking for 2 is refused at start naming that bucket', async () => {
    const file = path.join(dir, 'net.lua');
    const group = newGroup();
    expect((await cli('deploy', file, '--group', group, '--nats', URL!, '--replicas', '1')).code).toBe(0);
    expect(await replicasOf(scriptsBucket(group))).toBe(1);
    const r = await cli('agent', '--group', group, '--nats', URL!, '--replicas', '2', '--for', '5s', '--log-level', 'silent');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`bucket '${scriptsBucket(group)}' exists with 1 replica, but 2 replicas were asked for`);
    // It stopped before joining: no group bucket was made.
    expect(await exists(groupBucket(group))).toBe(false);
  });
});
