import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import type { KV, NatsConnection } from 'nats';
import { groupBucket } from '../../lib/cluster/types';
import { reportFault, tally } from './counts';
import { BIN, LineProcess, groupRunSupported, readGroup, type OutputLine } from './group-children';
import { NATS_SERVER, ownCluster, until } from './nats-cluster';
import { faultSuite } from './servers';

/**
 * Issue 17, fault suite: a 3-node NATS JetStream cluster of the test's own (spare loopback
 * ports, own stores) with a replicated (R3) stream and KV bucket; one server is killed with
 * SIGKILL while a network consumes the stream through it. The stream and bucket keep a quorum
 * on the other two: publishing goes on, the network's client fails over to a server it learnt
 * from the cluster, and nothing is lost. Then a group of 2 `tributary run --group
 * --partitions 4 --replicas 3` processes on the cluster (the members create the group's bucket
 * R3 themselves) loses the server one of them talks to: the group keeps running, every
 * partition processes events published after the kill, nothing is lost. The shared server on
 * 4222 is never touched (TRIBUTARY_NATS_URL turns the suite on, as `.ci/run` does).
 */
const suite = faultSuite('group-nats-cluster', 'TRIBUTARY_NATS_URL', NATS_SERVER);
const quiet = { warn: () => undefined, error: () => undefined };

/** Publishes `i` with a message id, retrying (the id deduplicates) until the stream acks it. */
async function publishSure(nc: NatsConnection, subject: string, i: number, data: unknown = { i }, ms = 30_000): Promise<void> {
  const js = nc.jetstream();
  await until(`publish of ${i} was not acked`, ms, () => js.publish(subject, JSON.stringify(data), { msgID: `m${i}`, timeout: 2000 }));
}

/** Publishes from..to (inclusive), 50 at a time, each as {@link publishSure} does; `data(i)` gives subject and payload. */
async function publishRange(nc: NatsConnection, from: number, to: number, data: (i: number) => [string, unknown]): Promise<void> {
  for (let start = from; start <= to; start += 50) {
    const batch: Promise<void>[] = [];
    for (let i = start; i <= Math.min(to, start + 49); i++) batch.push(publishSure(nc, data(i)[0], i, data(i)[1]));
    await Promise.all(batch);
  }
}

suite('a 3-node NATS cluster loses one server (SIGKILL)', () => {
  const own = ownCluster(3);

  it('an R3 stream and KV bucket keep serving; a network reading through the killed server fails over and loses nothing', async () => {
    const cluster = own();
    const N = 3000;
    const CAP = 64;
    // The publisher and the admin talk to n2 and n3 only; the network to n1, which is killed.
    const admin = await cluster.connect([1, 2]);
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    const kv: KV = await admin.jetstream().views.kv('r3_bucket', { replicas: 3, history: 1 });
    await kv.put('k', 'before');
    expect((await jsm.streams.info('R3')).config.num_replicas).toBe(3);
    expect((await jsm.streams.info('KV_r3_bucket')).config.num_replicas).toBe(3);
    await publishRange(admin, 1, N / 2, (i) => ['r3.in', { i }]);

    const net = new Network({ logger: quiet, drainTimeout: '20s' });
    try {
      const seen: number[] = [];
      let killedAt = -1;
      let killed!: () => void;
      const afterKill = new Promise<void>((r) => (killed = r));
      net.add(
        'in',
        connectors.natsSource({
          url: cluster.nodes[0].url,
          subject: 'r3.in',
          stream: 'R3',
          durable: 'r3',
          maxInFlight: CAP,
          ackWait: '3s',
          nackDelay: 0,
        }),
      );
      net.add(
        'out',
        nodes.sink({
          fn: (p: { i: number }) => {
            seen.push(p.i);
            if (killedAt < 0 && seen.length === N / 4) {
              killedAt = seen.length;
              void cluster.kill(0).then(killed);
            }
          },
        }),
      );
      net.link('in', 'out');
      await net.start();
      await afterKill;
      const leader = await until('the stream R3 has a leader among the survivors', 20_000, () => cluster.streamLeader(admin, 'R3'));
      expect(leader).not.toBe(0);
      // The bucket is a stream of its own, which may have had its leader on n1 too.
      expect(
        await until('the bucket has a leader among the survivors', 20_000, () => cluster.streamLeader(admin, 'KV_r3_bucket')),
      ).not.toBe(0);
      // The second half is published while n1 is down.
      await publishRange(admin, N / 2 + 1, N, (i) => ['r3.in', { i }]);
      await kv.put('k', 'after');
      expect((await kv.get('k'))?.string()).toBe('after');
      await until(`all ${N} events arrived (so far ${new Set(seen).size})`, 90_000, async () => {
        if (new Set(seen).size < N) throw new Error('not yet');
      });
      await net.stop();
      // Every ack reaches the consumer's (possibly new) leader: none is left pending once the
      // replicas have applied them. Bounded: a lost ack would stay pending (nothing reads now).
      const info = await until('every ack applied', 15_000, async () => {
        const i = await jsm.consumers.info('R3', 'r3');
        if (i.num_ack_pending !== 0) throw new Error(`num_ack_pending ${i.num_ack_pending}`);
        return i;
      });
      const t = tally(
        Array.from({ length: N }, (_, i) => i + 1),
        seen,
      );
      reportFault('group-nats-cluster', {
        sent: N,
        received: t.received,
        lost: t.lost.length,
        duplicates: t.duplicates,
        cap: CAP,
        fault: `3-node cluster, R3 stream and KV; the server the network used (n1) SIGKILLed after ${killedAt} events; stream leader now ${cluster.nodes[leader].name}`,
      });
      expect(t.lost).toEqual([]);
      expect(t.duplicates).toBeLessThanOrEqual(CAP);
      expect(info.num_ack_pending).toBe(0);
    } finally {
      // Closed whatever failed above: a connection left open keeps Jest from exiting.
      await net.stop().catch(() => undefined);
      await admin.close();
    }
  }, 150_000);
});

const groupEnabled = process.env.TRIBUTARY_NATS_URL !== undefined && groupRunSupported('--replicas');
const groupSuite = groupEnabled ? suite : describe.skip;
if (!groupEnabled)
  console.log(
    'group-nats-cluster (group): set TRIBUTARY_NATS_URL and run `npm run build` (with run --group and --replicas in the CLI) to run it',
  );

groupSuite('a group of 2 members on a 3-node NATS cluster loses the server one member uses (SIGKILL)', () => {
  const own = ownCluster(3);

  it('keeps running: every partition processes again, nothing lost', async () => {
    const cluster = own();
    const N = 2000;
    const P = 4;
    const CAP = 50;
    const LEASE_S = 4;
    const group = `gc_${process.pid}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-group-cluster-'));
    const admin = await cluster.connect([1, 2]);
    const jsm = await admin.jetstreamManager();
    const lines: OutputLine[] = [];
    const members: LineProcess[] = [];
    try {
      await jsm.streams.add({ name: 'GC', subjects: ['gc.*'], num_replicas: 3 });
      const script = path.join(dir, 'tag.lua');
      writeFileSync(
        script,
        [
          'local tb = require("tributary")',
          `tb.create_nats_source("in", { subject = "gc.*", stream = "GC", durable = "gc", max_in_flight = ${CAP}, ack_wait = "3s", nack_delay = "0s" })`,
          'tb.create_map("tag", function(e) return { i = e.i, p = e.p } end)',
          'tb.create_stdout_sink("out")',
          'tb.link("in", "tag")',
          'tb.link("tag", "out")',
          '',
        ].join('\n'),
      );
      await publishRange(admin, 1, N / 2, (i) => [`gc.${i % P}`, { i, p: i % P }]);
      // Member 0 talks to n1 first (killed below), member 1 to n2 first: each is given every
      // server, comma-separated, as a user of a cluster would, so a connection made while n1 is
      // down finds another.
      for (let m = 0; m < 2; m++) {
        const servers = [cluster.nodes[m].url, ...cluster.urls.filter((_, j) => j !== m)].join(',');
        // --replicas 3: whichever member comes first creates the group's bucket R3.
        const argv = [
          BIN,
          'run',
          script,
          '--group',
          group,
          '--partitions',
          String(P),
          '--nats',
          servers,
          '--lease-timeout',
          `${LEASE_S}s`,
          '--replicas',
          '3',
        ];
        // The script's nats_source takes its address from TRIBUTARY_NATS_URL.
        members.push(new LineProcess(m, process.execPath, argv, lines, { TRIBUTARY_NATS_URL: servers }));
      }

      await until('2 members share the 4 partitions', 60_000, async () => {
        const dead = members.find((m) => !m.running);
        if (dead) throw new Error(`member ${dead.index} exited:\n${dead.stderr}`);
        const owners = new Set((await readGroup(admin, group)).leases.values());
        if (owners.size !== 2) throw new Error(`owners: ${[...owners].join(',')}`);
      });
      expect((await jsm.streams.info(`KV_${groupBucket(group)}`)).config.num_replicas).toBe(3);
      await until('some events processed', 60_000, async () => {
        if (lines.length < N / 8) throw new Error(`${lines.length}`);
      });
      const killAt = Date.now();
      await cluster.kill(0);
      await publishSure(admin, `gc.${(N / 2 + 1) % P}`, N / 2 + 1, { i: N / 2 + 1, p: (N / 2 + 1) % P });
      // The stream takes writes again (its leader moved if n1 led it).
      const publishingAgainAfter = Date.now() - killAt;
      await publishRange(admin, N / 2 + 2, N, (i) => [`gc.${i % P}`, { i, p: i % P }]);
      await until(`all ${N} events came out`, 90_000, async () => {
        const seen = new Set(lines.map((l) => l.i));
        if (seen.size < N) {
          const missing = Array.from({ length: P }, (_, p) => p).filter((p) => !lines.some((l) => l.i > N / 2 && l.payload.p === p));
          const view = await readGroup(admin, group).catch((e: unknown) => String(e));
          throw new Error(
            `${seen.size} out; partitions with nothing after the kill: ${missing.join(',')}; group: ${JSON.stringify(view, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v))}\n${members.map((m) => `member ${m.index}: ${m.stderr.slice(-3000)}`).join('\n')}`,
          );
        }
      });
      // Resumed: the first output of each partition for an event published after the kill.
      const resumed = Array.from({ length: P }, (_, p) => lines.find((l) => l.i > N / 2 && l.payload.p === p)!.at - killAt);
      // Not asserted yet (see the report of issue 17): a partition whose JetStream pull was pending
      // on the killed server can wait for the pull to expire (nats.js consume: 30 s) before it
      // fetches again. Say so with the members' logs when it happens.
      if (Math.max(...resumed) > LEASE_S * 1000 + 5000) {
        console.warn(
          `group-nats-cluster: partitions resumed ${resumed.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s after the kill\n${members.map((m) => `member ${m.index}:\n${m.stderr.slice(-4000)}`).join('\n')}`,
        );
      }
      const view = await readGroup(admin, group);
      for (const m of members) if (m.running) expect(await m.terminate()).toEqual({ code: 0, signal: null });
      const t = tally(
        Array.from({ length: N }, (_, i) => i + 1),
        lines.map((l) => l.i),
      );
      reportFault('group-nats-cluster-group', {
        sent: N,
        received: t.received,
        lost: t.lost.length,
        duplicates: t.duplicates,
        cap: CAP * P,
        fault: `2 members x ${P} partitions on a 3-node cluster (R3 stream and group bucket); n1, member 0's server, SIGKILLed; the stream took writes again after ${(publishingAgainAfter / 1000).toFixed(1)} s; partitions processing events published after the kill ${resumed.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s after it; leases then: ${view.leases.size}`,
      });
      expect(t.lost).toEqual([]);
      expect(t.duplicates).toBeLessThanOrEqual(CAP * P);
      expect(view.leases.size).toBe(P);
    } finally {
      await Promise.all(members.map((m) => m.kill()));
      await admin.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 170_000);
});
