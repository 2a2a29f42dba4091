import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { partitionOf } from '../../lib/cluster/partition';
import { groupBucket } from '../../lib/cluster/types';
import { openStateStore } from '../../lib/state/open';
import { reportFault } from './counts';
import { LineProcess, groupKv, publishPaced, readGroup, type OutputLine } from './group-children';
import { until } from './nats-cluster';

/**
 * Issue 17, fault suite: 3 group member processes run one Lua network partitioned 16 ways
 * (JetStream subjects `<prefix>.<partition>`, one durable per partition) into a keyed sum
 * (`stateful`, checkpointed to Redis, fenced per partition); 50k events over 500 customers are
 * published partitioned while they run; one member is killed with SIGKILL mid-stream. The
 * others must take its partitions over within the lease timeout + 5 s (measured: the first
 * output of each of its partitions after the kill), and once the backlog is acked, the per-key
 * state must equal the truth exactly (what a single process computes: no event lost, none
 * counted twice), every event must have reached the sink at least once, and duplicates at the
 * sink stay within what the killed member had in flight. Members are the real CLI
 * (`tributary run sums.lua --group g --partitions 16 --state-store redis://… --lease-timeout 5s`,
 * bin/tributary.js, the built bundle); the shared NATS and Redis on a fresh stream, bucket and
 * key prefix.
 */
const N = 50_000;
const KEYS = 500;
const P = 16;
const LEASE_S = 5;
const CAP = 200;
const RATE = 4000;

const BIN = path.join(__dirname, '..', '..', 'bin', 'tributary.js');

/** True when the built CLI's `run` takes `--group` and `--partitions`. */
function groupRunSupported(): boolean {
  if (!existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'))) return false;
  const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return help.includes('--partitions') && help.includes('--lease-timeout');
}

const missing = ['TRIBUTARY_NATS_URL', 'TRIBUTARY_REDIS_URL'].filter((v) => process.env[v] === undefined);
const enabled = missing.length === 0 && groupRunSupported();
if (!enabled) console.log(`group-kill: set ${missing.join(' and ') || 'nothing more'} and run \`npm run build\` to run it`);
const suite = enabled ? describe : describe.skip;

const customerOf = (i: number) => `c${i % KEYS}`;
const amountOf = (i: number) => (i % 13) + 1;

/** Per customer: how many events and the sum of their amounts. */
type Sums = Map<string, { n: number; sum: number }>;

function truth(): Sums {
  const t: Sums = new Map();
  for (let i = 1; i <= N; i++) {
    const s = t.get(customerOf(i)) ?? { n: 0, sum: 0 };
    s.n++;
    s.sum += amountOf(i);
    t.set(customerOf(i), s);
  }
  return t;
}

/** Every partition's durable has nothing pending or unacked. */
async function drained(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const left: string[] = [];
  for (let p = 0; p < P; p++) {
    const info = await jsm.consumers.info(stream, `gk_p${p}`);
    if (info.num_pending + info.num_ack_pending > 0) left.push(`p${p}: ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
  }
  if (left.length) throw new Error(left.join('; '));
}

suite('a group of 3 members running 16 partitions with keyed state loses one member (SIGKILL)', () => {
  it('0 lost, per-key state equal to a single run, partitions taken over within the lease timeout + 5 s', async () => {
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const group = `gk_${tag}`;
    const stream = `GK_${tag}`;
    const prefix = `gk.${tag}`;
    const natsUrl = process.env.TRIBUTARY_NATS_URL!;
    const redis = process.env.TRIBUTARY_REDIS_URL!;
    const storeUrl = `${redis}${redis.includes('?') ? '&' : '?'}prefix=gk:${tag}:`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-group-kill-'));
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    const lines: OutputLine[] = [];
    const members: LineProcess[] = [];
    try {
      await jsm.streams.add({ name: stream, subjects: [`${prefix}.*`] });
      const script = path.join(dir, 'sums.lua');
      writeFileSync(
        script,
        [
          'local tb = require("tributary")',
          `tb.create_nats_source("in", { url = ${JSON.stringify(natsUrl)}, subject = ${JSON.stringify(`${prefix}.*`)}, stream = ${JSON.stringify(stream)}, durable = "gk", max_in_flight = ${CAP}, ack_wait = "5s", nack_delay = "0s" })`,
          'tb.create_stateful("agg", "c", function(s, p)',
          '  s = s or { n = 0, sum = 0 }',
          '  s.n = s.n + 1',
          '  s.sum = s.sum + p.a',
          '  return { state = s, emit = { i = p.i, c = p.c } }',
          'end)',
          'tb.create_stdout_sink("out")',
          'tb.link("in", "agg")',
          'tb.link("agg", "out")',
          '',
        ].join('\n'),
      );
      let published = 0;
      const publishing = publishPaced(
        nc,
        N,
        RATE,
        (i) => ({ subject: `${prefix}.${partitionOf(customerOf(i), P)}`, data: { i, c: customerOf(i), a: amountOf(i) } }),
        (n) => (published = n),
      );
      for (let m = 0; m < 3; m++) {
        const argv = [BIN, 'run', script, '--group', group, '--partitions', String(P), '--nats', natsUrl];
        argv.push('--state-store', storeUrl, '--checkpoint-interval', '500ms', '--lease-timeout', `${LEASE_S}s`);
        members.push(new LineProcess(m, process.execPath, argv, lines));
      }
      const alive = (which = members) => {
        const dead = which.filter((m) => !m.running);
        if (dead.length) throw new Error(`member ${dead[0].index} exited early:\n${dead[0].stderr}`);
      };

      // Wait for a balanced group: 16 leases over 3 owners, each with at least 5.
      await until('the group bucket exists', 30_000, () => groupKv(nc, group));
      const balanced = await until('3 members share the 16 partitions', 60_000, async () => {
        alive();
        const view = await readGroup(nc, group);
        const per = new Map<string, string[]>();
        for (const [unit, owner] of view.leases) per.set(owner, [...(per.get(owner) ?? []), unit]);
        if (view.leases.size !== P || per.size !== 3 || [...per.values()].some((u) => u.length < 5)) {
          throw new Error(`leases: ${JSON.stringify(Object.fromEntries(per))}`);
        }
        return { view, per };
      });
      await until('a quarter of the events were processed', 60_000, async () => {
        alive();
        if (new Set(lines.map((l) => l.i)).size < N / 4) throw new Error(`${new Set(lines.map((l) => l.i)).size} so far`);
      });

      // Kill member 1 and note the partitions it held.
      const victim = members[1];
      const victimId = [...balanced.view.members.values()].find((m) => m.pid === victim.pid)?.id;
      expect(victimId).toBeDefined();
      const victimUnits = (await readGroup(nc, group)).leases;
      const victimPartitions = [...victimUnits]
        .filter(([, owner]) => owner === victimId)
        .map(([unit]) => Number(/\.p(\d+)$/.exec(unit)![1]))
        .sort((a, b) => a - b);
      expect(victimPartitions.length).toBeGreaterThanOrEqual(5);
      const killedAfter = lines.length;
      const publishedAtKill = published;
      const killAt = Date.now();
      await victim.kill();
      const survivors = members.filter((m) => m !== victim);

      // Takeover: the first output of each of its partitions after the kill, from a survivor.
      const takeover = await until(
        `the killed member's partitions ${victimPartitions.join(',')} process again`,
        (LEASE_S + 60) * 1000,
        async () => {
          alive(survivors);
          const firsts = victimPartitions.map(
            (p) => lines.find((l) => l.member !== victim.index && l.at > killAt && partitionOf(l.payload.c, P) === p)?.at,
          );
          if (firsts.some((t) => t === undefined))
            throw new Error(`${firsts.filter((t) => t !== undefined).length} of ${victimPartitions.length} so far`);
          return Math.max(...(firsts as number[])) - killAt;
        },
      );

      await publishing;
      await until('every partition drained (all acked)', 150_000, () => drained(nc, stream));
      for (const m of survivors) expect(await m.terminate()).toEqual({ code: 0, signal: null });

      const store = await openStateStore(storeUrl);
      const got: Sums = new Map();
      const keyRe = new RegExp(`^${group}/sums/p(\\d+)/agg/k/(.+)$`);
      let misplaced = 0;
      for await (const [k, v] of store.list<{ s: { n: number; sum: number } }>(`${group}/sums/`)) {
        const m = keyRe.exec(k);
        if (!m) continue;
        if (partitionOf(m[2], P) !== Number(m[1])) misplaced++;
        got.set(m[2], v.value.s);
      }
      await store.close();
      const want = truth();
      let lost = 0;
      let doubled = 0;
      for (const [c, t] of want) {
        const g = got.get(c) ?? { n: 0, sum: 0 };
        if (g.n < t.n) lost += t.n - g.n;
        else doubled += g.n - t.n;
      }
      const unique = new Set(lines.map((l) => l.i));
      const duplicates = lines.length - unique.size;
      const inFlightCap = victimPartitions.length * CAP;
      console.log(
        `group-kill: takeover ${(takeover / 1000).toFixed(2)} s (lease timeout ${LEASE_S} s) of partitions ${victimPartitions.join(',')}; killed after ${killedAfter} outputs, ${publishedAtKill} published`,
      );
      reportFault('group-kill', {
        sent: N,
        received: unique.size,
        lost: Math.max(lost, N - unique.size),
        duplicates,
        cap: inFlightCap,
        fault: `3 members x 16 partitions, keyed sums checkpointed to Redis; member SIGKILLed after ${killedAfter} outputs; its ${victimPartitions.length} partitions resumed after ${(takeover / 1000).toFixed(2)} s; per-key state: ${lost} lost, ${doubled} counted twice`,
      });
      expect({ lost, doubled, misplaced }).toEqual({ lost: 0, doubled: 0, misplaced: 0 });
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
      expect(unique.size).toBe(N);
      expect(duplicates).toBeLessThanOrEqual(inFlightCap);
      expect(takeover).toBeLessThanOrEqual(LEASE_S * 1000 + 5000);
    } finally {
      await Promise.all(members.map((m) => m.kill()));
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(`KV_${groupBucket(group)}`).catch(() => undefined);
      await nc.close();
      const store = await openStateStore(storeUrl).catch(() => undefined);
      if (store) {
        for await (const [k] of store.list('')) await store.delete(k);
        await store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 170_000);
});
