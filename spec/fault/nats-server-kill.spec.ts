import { connect, type NatsConnection } from 'nats';
import { Network, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import { reportFault } from './counts';
import { OwnServer, faultSuite } from './servers';

/**
 * Issue 9, fault suite: the NATS server itself is killed (SIGKILL) while a network consumes a
 * JetStream stream, and restarted on the same store. Nothing may be lost. nats-server syncs
 * consumer state to disk periodically (2.9 has no `sync_interval: always`), so the restarted
 * server forgets acks it had received and delivers those messages again, even as new; the
 * source remembers what it acked (stream sequence and store time) and acks such messages again
 * without processing them, so duplicates stay within what was in flight at the kill. A private
 * nats-server on a spare port; the shared one on 4222 is never touched (TRIBUTARY_NATS_URL
 * turns it on, as `.ci/run` does).
 */
const NATS_SERVER = '/usr/sbin/nats-server';
const suite = faultSuite('nats-server-kill', 'TRIBUTARY_NATS_URL', NATS_SERVER);

/** Starts a private nats-server with JetStream on its own store; resolves with a client once it answers. */
function startNats(server: OwnServer): Promise<NatsConnection> {
  return server.start([NATS_SERVER, '-a', '127.0.0.1', '-p', String(server.port), '-js', '-sd', server.dir], async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${server.port}`, reconnect: false });
    await (await nc.jetstreamManager()).streams.list().next();
    return nc;
  });
}

suite('the NATS server is killed (SIGKILL) and restarted while a network consumes JetStream', () => {
  let server: OwnServer;
  beforeAll(async () => {
    server = await OwnServer.create('tb-nats-');
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('loses nothing; duplicates are at most the in-flight cap, all from before the kill', async () => {
    const N = 300;
    const MAX_IN_FLIGHT = 16;
    const admin = await startNats(server);
    const jsm = await admin.jetstreamManager();
    await jsm.streams.add({ name: 'FAULT', subjects: ['fault.>'] });
    const js = admin.jetstream();
    for (let i = 1; i <= N; i++) await js.publish('fault.in', JSON.stringify({ i }));
    await admin.close();

    const seen: number[] = [];
    let killed = false;
    let killedAt = 0;
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    const net = new Network({ logger: { warn: () => undefined, error: () => undefined }, drainTimeout: '20s' });
    net.add(
      'in',
      connectors.natsSource({
        url: `nats://127.0.0.1:${server.port}`,
        subject: 'fault.in',
        stream: 'FAULT',
        durable: 'fault',
        maxInFlight: MAX_IN_FLIGHT,
        ackWait: '2s',
        nackDelay: 0,
      }),
    );
    net.add(
      'out',
      nodes.sink({
        fn: async (p: { i: number }) => {
          seen.push(p.i);
          // A third of the way in, kill the server under the consumer, restart it, go on.
          if (!killed && seen.length === N / 3) {
            killed = true;
            killedAt = seen.length;
            void server
              .kill()
              .then(() => startNats(server))
              .then(async (nc) => {
                await nc.close();
                resume();
              });
          }
        },
      }),
    );
    net.link('in', 'out');
    await net.start();
    await resumed;
    // Bounded wait for every message to arrive at least once.
    for (let round = 0; round < 600 && new Set(seen).size < N; round++) await new Promise((r) => setTimeout(r, 50));
    await net.stop();
    const unique = new Set(seen);
    const duplicates = seen.length - unique.size;
    const firstAt = new Map<number, number>();
    seen.forEach((i, at) => firstAt.has(i) || firstAt.set(i, at));
    const late = [...firstAt].filter(([i, at]) => seen.lastIndexOf(i) !== at && at >= killedAt + MAX_IN_FLIGHT).map(([i]) => i);
    reportFault('nats-server-kill', {
      sent: N,
      received: unique.size,
      lost: N - unique.size,
      duplicates,
      cap: MAX_IN_FLIGHT,
      fault: `own nats-server SIGKILLed after ${killedAt} events and restarted on its store; duplicates first delivered before the kill: ${duplicates - late.length}, after it: ${late.length}`,
    });
    expect(unique.size).toBe(N);
    expect(late).toEqual([]);
    // Redeliveries of messages the source had acked (the killed server forgot those acks) are
    // acked again, not processed: what is left is at most what was in flight at the kill.
    expect(duplicates).toBeLessThanOrEqual(MAX_IN_FLIGHT);
  }, 120_000);
});
