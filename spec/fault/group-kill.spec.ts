import { connect } from 'nats';
import { partitionOf } from '../../lib/cluster/partition';
import { groupBucket } from '../../lib/cluster/types';
import { reportFault } from './counts';
import { SumsGroup, groupFaultSuite, groupKv, publishPaced, readGroup } from './group-children';
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

const suite = groupFaultSuite('group-kill', ['TRIBUTARY_NATS_URL', 'TRIBUTARY_REDIS_URL']);

suite('a group of 3 members running 16 partitions with keyed state loses one member (SIGKILL)', () => {
  it('0 lost, per-key state equal to a single run, partitions taken over within the lease timeout + 5 s', async () => {
    const g = new SumsGroup({
      name: 'group-kill',
      short: 'gk',
      keys: KEYS,
      amountModulus: 13,
      partitions: P,
      cap: CAP,
      leaseSeconds: LEASE_S,
    });
    const { group, stream, lines, members } = g;
    const natsUrl = process.env.TRIBUTARY_NATS_URL!;
    const nc = await connect({ servers: natsUrl });
    const jsm = await nc.jetstreamManager();
    try {
      await jsm.streams.add({ name: stream, subjects: [`${g.prefix}.*`] });
      g.writeScript(natsUrl);
      let published = 0;
      const publishing = publishPaced(nc, N, RATE, g.message, (n) => (published = n));
      g.startMembers(3, natsUrl);
      const alive = (which = members) => g.alive(which);

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
        g.processedAtLeast(N / 4);
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
      await until('every partition drained (all acked)', 150_000, () => g.drained(nc));
      for (const m of survivors) expect(await m.terminate()).toEqual({ code: 0, signal: null });

      const { got, want, misplaced, lost, doubled } = await g.check(Array.from({ length: N }, (_, i) => i + 1));
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
      await g.dispose();
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(`KV_${groupBucket(group)}`).catch(() => undefined);
      await nc.close();
    }
  }, 170_000);
});
