// Partitioned NATS (docs/scale-out.md): the partitioning publisher sends each key to
// `<subject>.<partitionOf(key, n)>`, and in a partitioned run a JetStream source reads only its
// partition's subject through its own durable.
import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type JetStreamManager } from 'nats';
import { Network, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import { LuaRuntime } from 'tributary/lua';
import { partitionOf } from '../../lib/cluster/partition';
import { builtinPlugins } from '../../lib/plugins';
import { captureLogger, waitFor } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const enc = new TextEncoder();

async function subjectsOf(jsm: JetStreamManager, stream: string): Promise<Array<{ subject: string; payload: { customer: string } }>> {
  const info = await jsm.streams.info(stream);
  const out: Array<{ subject: string; payload: { customer: string } }> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m) out.push({ subject: m.subject, payload: m.json() });
  }
  return out;
}

suite(`partitioned NATS against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let stream: string;
  let tag: string;
  const nets: Network[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: URL });
    jsm = await nc.jetstreamManager();
  });
  afterAll(async () => nc?.close());
  beforeEach(async () => {
    tag = randomUUID().slice(0, 8);
    stream = `TBP_${tag}`;
    await jsm.streams.add({ name: stream, subjects: [`tbp.${tag}.>`] });
  });
  afterEach(async () => {
    for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
    await jsm.streams.delete(stream).catch(() => undefined);
  });

  it('publishes each event to <subject>.<partitionOf(key, partitions)>, key by path or function', async () => {
    const customers = Array.from({ length: 40 }, (_, i) => ({ customer: `c${i}`, bet: { who: `c${i}` } }));
    const net = new Network({ logger: captureLogger() });
    net.add('gen', nodes.from({ items: customers }));
    net.add('byPath', connectors.natsSink({ url: URL, subject: `tbp.${tag}.a`, partitionKey: 'customer', partitions: 4 }));
    net.add(
      'byFn',
      connectors.natsSink({ url: URL, subject: `tbp.${tag}.b`, partitionKey: (p: { bet: { who: string } }) => p.bet.who, partitions: 4 }),
    );
    net.link('gen', 'byPath');
    net.link('gen', 'byFn');
    await net.start();
    await net.done();
    const stored = await subjectsOf(jsm, stream);
    expect(stored).toHaveLength(80);
    for (const { subject, payload } of stored) {
      const p = partitionOf(payload.customer, 4);
      expect([`tbp.${tag}.a.${p}`, `tbp.${tag}.b.${p}`]).toContain(subject);
    }
    // Every partition got some of the 40 keys.
    expect(new Set(stored.map((s) => s.subject)).size).toBe(8);
  });

  it('takes a Lua key function (partition_key) in a Lua script', async () => {
    const net = new Network({ logger: captureLogger(), plugins: builtinPlugins() });
    net.add('gen', nodes.from({ items: [{ customer: 'alice' }, { customer: 'bob' }] }));
    const lua = new LuaRuntime(net);
    lua.runString(
      `local tb = require('tributary')
       tb.create_nats_sink("out", { url = "${URL}", subject = "tbp.${tag}.lua", partitions = 8,
         partition_key = function(p) return string.upper(p.customer) end })
       tb.link("gen", "out")`,
      'net.lua',
    );
    await net.start();
    await net.done();
    lua.close();
    const stored = await subjectsOf(jsm, stream);
    expect(stored.map((x) => x.subject).sort()).toEqual(
      [`tbp.${tag}.lua.${partitionOf('ALICE', 8)}`, `tbp.${tag}.lua.${partitionOf('BOB', 8)}`].sort(),
    );
  });

  it('fails an event without the key naming the node and the field, and publishes the others', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('gen', nodes.from({ items: [{ customer: 'a' }, { other: 1 }, { customer: 'b' }] }));
    net.add('out', connectors.natsSink({ url: URL, subject: `tbp.${tag}.a`, partitionKey: 'customer', partitions: 2 }));
    net.link('gen', 'out');
    await net.start();
    await net.done();
    const stored = await subjectsOf(jsm, stream);
    expect(stored.map((s) => s.payload.customer).sort()).toEqual(['a', 'b']);
    expect(net.stats().out).toMatchObject({ errors: 1 });
    expect(logger.messages.join('\n')).toContain("node 'out': option 'partitionKey': payload has no field 'customer'");
  });

  it('rejects partitionKey without partitions (and the reverse)', () => {
    expect(() => connectors.natsSink({ subject: 'x', partitionKey: 'customer' })).toThrow(/'partitionKey' needs option 'partitions'/);
    expect(() => connectors.natsSink({ subject: 'x', partitions: 4 })).toThrow(/'partitions' needs option 'partitionKey'/);
  });

  it('in a partitioned run a JetStream source reads only <prefix>.<index> through <durable>_p<index>', async () => {
    const js = nc.jetstream();
    for (let p = 0; p < 3; p++) for (let i = 0; i < 5; i++) await js.publish(`tbp.${tag}.in.${p}`, enc.encode(JSON.stringify({ p, i })));
    const seen: Array<Array<{ p: number; i: number }>> = [[], [], []];
    const subjects = [`tbp.${tag}.in.*`, `tbp.${tag}.in.>`];
    for (const index of [0, 2]) {
      const net = new Network({ logger: captureLogger(), partition: { group: 'g', index, count: 3, epoch: 1 } });
      net.add('in', connectors.natsSource({ url: URL, subject: subjects[index / 2], stream, durable: 'reader', closeTimeout: '100ms' }));
      net.add('out', nodes.sink({ fn: (x: { p: number; i: number }) => void seen[index].push(x) }));
      net.link('in', 'out');
      nets.push(net);
      await net.start();
    }
    await waitFor(() => seen[0].length === 5 && seen[2].length === 5, 'both partitions read');
    expect(seen[0].every((x) => x.p === 0)).toBe(true);
    expect(seen[2].every((x) => x.p === 2)).toBe(true);
    const c0 = await jsm.consumers.info(stream, 'reader_p0');
    expect(c0.config.filter_subject).toBe(`tbp.${tag}.in.0`);
    await waitFor(async () => (await jsm.consumers.info(stream, 'reader_p2')).num_ack_pending === 0, 'acks of partition 2');
    expect((await jsm.consumers.info(stream, 'reader_p2')).config.filter_subject).toBe(`tbp.${tag}.in.2`);
    // Partition 1 has no reader: nothing made a consumer for it.
    await expect(jsm.consumers.info(stream, 'reader_p1')).rejects.toThrow(/not found/i);
  });

  it('in a partitioned run, a JetStream subject without a trailing wildcard is an error naming the node', async () => {
    const net = new Network({ logger: captureLogger(), partition: { group: 'g', index: 1, count: 3, epoch: 1 } });
    net.add('bets', connectors.natsSource({ url: URL, subject: `tbp.${tag}.in`, stream }));
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.link('bets', 'out');
    await net.start();
    const { failure } = await net.done();
    expect(failure).toMatch(
      /node 'bets': in a partitioned run \(partition 1 of 3, group 'g'\) option 'subject' must end in '\.\*' or '\.>'.*got 'tbp\.\w+\.in'/,
    );
  });
});
