import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { partitionOf } from '../../lib/cluster/partition';
import { openStateStore } from '../../lib/state/open';
import { reportFault } from './counts';
import { LineProcess, groupKv, readGroup, type OutputLine } from './group-children';
import { NATS_SERVER, startSingleNats, until } from './nats-cluster';
import { OwnServer } from './servers';

/**
 * Issue 17 item 4, fault suite: the NATS server a scale-out group coordinates and consumes
 * through is killed (SIGKILL) mid-stream and restarted about 2 s later on the same port and
 * store. 2 group members (the real CLI: `tributary run sums.lua --group g --partitions 8
 * --state-store redis://…?prefix=… --lease-timeout 3s --nats <private server>`) run a keyed sum
 * (`stateful`, checkpointed to Redis, fenced per partition) over 8 JetStream partitions
 * (`<prefix>.<partition>`, one durable each). Events are published partitioned at a steady rate
 * before, during and after the outage; a publish that fails while the server is down is tried
 * again (same message id) until JetStream acknowledges it, and only acknowledged events count
 * as sent. While NATS is down the members cannot renew their leases and stop their units; after
 * the restart the old leases expire and the units start again from their checkpoints and their
 * durables' acked positions. Once every durable has nothing pending or unacked: every sent event
 * reached the sink (at least once), the per-key state equals the truth exactly (none lost, none
 * counted twice), and all 8 leases are held. Prints the time from the restart until every
 * partition's lease was taken again and its new unit processed an event published after the
 * restart. A private nats-server on a spare port (never the shared
 * one); the shared Redis under a fresh key prefix.
 */
const N = 10_000;
const KEYS = 200;
const P = 8;
const LEASE_S = 3;
const CAP = 100;
const RATE = 800;
const OUTAGE_MS = 2000;

const BIN = path.join(__dirname, '..', '..', 'bin', 'tributary.js');

/** True when the built CLI's `run` takes `--group` and `--partitions`. */
function groupRunSupported(): boolean {
  if (!existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'))) return false;
  const help = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' }).stdout ?? '';
  return help.includes('--partitions') && help.includes('--lease-timeout');
}

const missing = ['TRIBUTARY_NATS_URL', 'TRIBUTARY_REDIS_URL'].filter((v) => process.env[v] === undefined);
const enabled = missing.length === 0 && existsSync(NATS_SERVER) && groupRunSupported();
if (!enabled) {
  console.log(
    `group-nats-restart: set ${missing.join(' and ') || 'nothing more'}, install ${NATS_SERVER} and run \`npm run build\` to run it`,
  );
}
const suite = enabled ? describe : describe.skip;

const customerOf = (i: number) => `c${i % KEYS}`;
const amountOf = (i: number) => (i % 7) + 1;

/** Per customer: how many events and the sum of their amounts. */
type Sums = Map<string, { n: number; sum: number }>;

/**
 * Publishes events 1..count at about `perSecond`, each partitioned by its key, with message id
 * `m<i>`; a publish that fails (the server is down, JetStream not ready yet, no ack in time) is
 * tried again after 100 ms until acknowledged or `deadline`. Adds each acknowledged event to
 * `acked`; `progress.issued` is the last event whose first publish was sent.
 */
async function publishUntilAcked(
  nc: NatsConnection,
  count: number,
  perSecond: number,
  message: (i: number) => { subject: string; data: unknown },
  acked: Set<number>,
  deadline: number,
  progress: { issued: number },
): Promise<void> {
  const js = nc.jetstream();
  const start = Date.now();
  const pending: Promise<void>[] = [];
  const publish = async (i: number): Promise<void> => {
    const m = message(i);
    for (;;) {
      try {
        await js.publish(m.subject, JSON.stringify(m.data), { msgID: `m${i}`, timeout: 2000 });
        acked.add(i);
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`event ${i} was never acknowledged: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  let next = 1;
  while (next <= count) {
    const due = Math.min(count, Math.floor(((Date.now() - start) / 1000) * perSecond) + 1);
    for (; next <= due; next++) pending.push(publish(next));
    progress.issued = next - 1;
    if (next <= count) await new Promise((r) => setTimeout(r, 20));
  }
  await Promise.all(pending);
}

/**
 * When each partition's lease was first acquired (or lost) after the kill, from the members'
 * logs (`--log-level info` JSON lines, written after `logAtKill[member]` characters).
 */
function leaseEvents(members: readonly LineProcess[], logAtKill: readonly number[], what: 'acquired' | 'lost'): Map<number, number> {
  const re =
    what === 'acquired'
      ? /"time":"([^"]+)"[^\n]*?: acquired sums\.p(\d+) \(/g
      : /"time":"([^"]+)"[^\n]*?: lost the lease on sums\.p(\d+) \(/g;
  const at = new Map<number, number>();
  for (const m of members) {
    for (const [, time, p] of m.stderr.slice(logAtKill[m.index]).matchAll(re)) {
      const t = Date.parse(time);
      if (!at.has(Number(p)) || t < at.get(Number(p))!) at.set(Number(p), t);
    }
  }
  return at;
}

suite('a scale-out group of 2 members over 8 partitions while its NATS server is killed and restarted', () => {
  it('0 lost, per-key state equal to the truth, all leases held again', async () => {
    const tag = `${process.pid}_${Date.now().toString(36)}`;
    const group = `nr_${tag}`;
    const stream = `NR_${tag}`;
    const prefix = `nr.${tag}`;
    const redis = process.env.TRIBUTARY_REDIS_URL!;
    const storeUrl = `${redis}${redis.includes('?') ? '&' : '?'}prefix=nr:${tag}:`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-group-nats-restart-'));
    const server = await OwnServer.create('tb-group-nats-');
    const natsUrl = `nats://127.0.0.1:${server.port}`;
    const lines: OutputLine[] = [];
    const members: LineProcess[] = [];
    let nc: NatsConnection | undefined;
    try {
      await startSingleNats(server);
      nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      await (await nc.jetstreamManager()).streams.add({ name: stream, subjects: [`${prefix}.*`] });
      const script = path.join(dir, 'sums.lua');
      writeFileSync(
        script,
        [
          'local tb = require("tributary")',
          `tb.create_nats_source("in", { url = ${JSON.stringify(natsUrl)}, subject = ${JSON.stringify(`${prefix}.*`)}, stream = ${JSON.stringify(stream)}, durable = "nr", max_in_flight = ${CAP}, ack_wait = "5s", nack_delay = "0s" })`,
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
      for (let m = 0; m < 2; m++) {
        const argv = [BIN, 'run', script, '--group', group, '--partitions', String(P), '--nats', natsUrl];
        argv.push('--state-store', storeUrl, '--checkpoint-interval', '500ms', '--lease-timeout', `${LEASE_S}s`, '--log-level', 'info');
        members.push(new LineProcess(m, process.execPath, argv, lines));
      }
      const alive = () => {
        const dead = members.filter((m) => !m.running);
        if (dead.length) throw new Error(`member ${dead[0].index} exited early:\n${dead[0].stderr}`);
      };
      const admin = nc;
      await until('the group bucket exists', 30_000, () => groupKv(admin, group));
      await until('2 members share the 8 partitions', 60_000, async () => {
        alive();
        const { leases } = await readGroup(admin, group);
        const owners = new Set(leases.values());
        if (leases.size !== P || owners.size !== 2) throw new Error(`${leases.size} leases held by ${owners.size} members`);
      });

      const acked = new Set<number>();
      const progress = { issued: 0 };
      const publishing = publishUntilAcked(
        admin,
        N,
        RATE,
        (i) => ({ subject: `${prefix}.${partitionOf(customerOf(i), P)}`, data: { i, c: customerOf(i), a: amountOf(i) } }),
        acked,
        Date.now() + 100_000,
        progress,
      );
      publishing.catch(() => undefined);

      // Mid-stream: a third of the events processed. Kill the server, keep it down ~2 s, restart it.
      await until('a third of the events were processed', 60_000, async () => {
        alive();
        if (new Set(lines.map((l) => l.i)).size < N / 3) throw new Error(`${new Set(lines.map((l) => l.i)).size} so far`);
      });
      const outputsAtKill = lines.length;
      const ackedAtKill = acked.size;
      const logAtKill = members.map((m) => m.stderr.length);
      await server.kill();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await startSingleNats(server);
      const restartAt = Date.now();
      const issuedAtRestart = progress.issued;

      // Every partition processes again: its first output, after its lease was taken again (the
      // units that held the leases at the kill stop once they cannot renew them, possibly only
      // after the restart), of an event first published after the restart.
      const recovery = await until('every partition is processed again after the restart', 90_000, async () => {
        alive();
        const acquired = leaseEvents(members, logAtKill, 'acquired');
        const lost = leaseEvents(members, logAtKill, 'lost');
        // A lease not renewed during the outage is lost by lease timeout after the restart at the latest.
        const settled = Date.now() > restartAt + LEASE_S * 1000;
        const firsts = Array.from({ length: P }, (_, p) => {
          const from = acquired.get(p) ?? (settled && !lost.has(p) ? restartAt : undefined);
          if (from === undefined) return undefined;
          return lines.find((l) => l.at > from && l.i > issuedAtRestart && partitionOf(String(l.payload.c), P) === p)?.at;
        });
        const missingParts = firsts.flatMap((t, p) => (t === undefined ? [p] : []));
        if (missingParts.length) throw new Error(`partitions ${missingParts.join(',')} not yet`);
        return Math.max(...(firsts as number[])) - restartAt;
      });

      await publishing;
      const jsm = await admin.jetstreamManager();
      await until('every partition drained (all acked)', 90_000, async () => {
        alive();
        const left: string[] = [];
        for (let p = 0; p < P; p++) {
          const info = await jsm.consumers.info(stream, `nr_p${p}`);
          if (info.num_pending + info.num_ack_pending > 0) left.push(`p${p}: ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
        }
        if (left.length) throw new Error(left.join('; '));
      });
      const { leases } = await until('all 8 leases held', 30_000, async () => {
        const view = await readGroup(admin, group);
        if (view.leases.size !== P) throw new Error(`${view.leases.size} held`);
        return view;
      });
      const owners = new Set(leases.values());
      for (const m of members) expect(await m.terminate()).toEqual({ code: 0, signal: null });
      // What the outage did to the group, from the members' logs: leases lost (units stopped) and taken again.
      const count = (re: RegExp) => members.reduce((n, m) => n + (m.stderr.slice(logAtKill[m.index]).match(re)?.length ?? 0), 0);
      const leasesLost = count(/lost the lease on/g);
      const acquisitions = count(/: acquired /g);

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
      const want: Sums = new Map();
      for (const i of acked) {
        const s = want.get(customerOf(i)) ?? { n: 0, sum: 0 };
        s.n++;
        s.sum += amountOf(i);
        want.set(customerOf(i), s);
      }
      let lost = 0;
      let doubled = 0;
      for (const [c, t] of want) {
        const g = got.get(c) ?? { n: 0, sum: 0 };
        if (g.n < t.n) lost += t.n - g.n;
        else doubled += g.n - t.n;
      }
      const unique = new Set(lines.map((l) => l.i));
      const unacked = [...unique].filter((i) => !acked.has(i)).length;
      const notReached = [...acked].filter((i) => !unique.has(i)).length;
      const duplicates = lines.length - unique.size;
      console.log(
        `group-nats-restart: all ${P} partitions processed again ${(recovery / 1000).toFixed(2)} s after the restart (lease timeout ${LEASE_S} s, outage ${OUTAGE_MS / 1000} s); killed after ${outputsAtKill} outputs, ${ackedAtKill} acknowledged; leases held by ${owners.size} members at the end; ${leasesLost} leases lost during the outage, ${acquisitions} acquired again`,
      );
      reportFault('group-nats-restart', {
        sent: acked.size,
        received: unique.size,
        lost: Math.max(lost, notReached),
        duplicates,
        cap: P * CAP,
        fault: `2 members x ${P} partitions, keyed sums checkpointed to Redis; own nats-server SIGKILLed after ${outputsAtKill} outputs, restarted ${OUTAGE_MS / 1000} s later on its store; ${leasesLost} leases lost, ${acquisitions} acquired again; every partition processed again ${(recovery / 1000).toFixed(2)} s after the restart; per-key state: ${lost} lost, ${doubled} counted twice`,
      });
      expect(acked.size).toBe(N);
      expect({ lost, doubled, misplaced, notReached, unacked }).toEqual({ lost: 0, doubled: 0, misplaced: 0, notReached: 0, unacked: 0 });
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
      expect(leases.size).toBe(P);
    } catch (e) {
      // What the members said (lease losses, reconnects) explains a group that did not recover.
      for (const m of members) console.log(`member ${m.index} stderr (last 4000 characters):\n${m.stderr.slice(-4000)}`);
      throw e;
    } finally {
      await Promise.all(members.map((m) => m.kill()));
      await nc?.close().catch(() => undefined);
      await server.dispose();
      const store = await openStateStore(storeUrl).catch(() => undefined);
      if (store) {
        for await (const [k] of store.list('')) await store.delete(k);
        await store.close();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
