import { connect, type NatsConnection } from 'nats';
import { partitionOf } from '../../lib/cluster/partition';
import { reportFault } from './counts';
import { SumsGroup, groupFaultSuite, groupKv, readGroup, type LineProcess } from './group-children';
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

const suite = groupFaultSuite('group-nats-restart', ['TRIBUTARY_NATS_URL', 'TRIBUTARY_REDIS_URL'], [NATS_SERVER]);

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
    const g = new SumsGroup({
      name: 'group-nats-restart',
      short: 'nr',
      keys: KEYS,
      amountModulus: 7,
      partitions: P,
      cap: CAP,
      leaseSeconds: LEASE_S,
    });
    const { group, stream, lines, members } = g;
    const server = await OwnServer.create('tb-group-nats-');
    const natsUrl = `nats://127.0.0.1:${server.port}`;
    let nc: NatsConnection | undefined;
    try {
      await startSingleNats(server);
      nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      await (await nc.jetstreamManager()).streams.add({ name: stream, subjects: [`${g.prefix}.*`] });
      g.writeScript(natsUrl);
      g.startMembers(2, natsUrl, ['--log-level', 'info']);
      const alive = () => g.alive();
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
      const publishing = publishUntilAcked(admin, N, RATE, g.message, acked, Date.now() + 100_000, progress);
      publishing.catch(() => undefined);

      // Mid-stream: a third of the events processed. Kill the server, keep it down ~2 s, restart it.
      await until('a third of the events were processed', 60_000, async () => {
        alive();
        g.processedAtLeast(N / 3);
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
      await until('every partition drained (all acked)', 90_000, async () => {
        alive();
        await g.drained(admin);
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

      const { got, want, misplaced, lost, doubled } = await g.check(acked);
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
      await g.dispose();
      await nc?.close().catch(() => undefined);
      await server.dispose();
    }
  }, 240_000);
});
