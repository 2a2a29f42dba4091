import { randomUUID } from 'node:crypto';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { Network, nodes, errorMessage, createEvent, type Event } from 'tributary';
import { connectors } from 'tributary/connectors';
import { builtinPlugins } from '../../lib/plugins';
import { LuaRuntime } from '../../lib/lua/index';
import { busConformance } from './bus-conformance';
import { captureLogger, settlements, tcpProxy, waitFor } from './helpers';

const URL = process.env.TRIBUTARY_MQTT_URL;
const suite = URL ? describe : describe.skip;

/** A plain MQTT 5 client of the test. */
function connectClient(o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(URL!, { protocolVersion: 5, reconnectPeriod: 0, ...o });
}

/** Creates the persistent session `clientId` subscribed to `filter`, as a source would, so what is published before the source starts waits for it. */
async function createSession(clientId: string, filter: string | string[], qos: 0 | 1 | 2 = 1): Promise<void> {
  const c = await connectClient({ clientId, clean: false, properties: { sessionExpiryInterval: 3600 } });
  await c.subscribeAsync(filter, { qos });
  await c.endAsync();
}

/** Ends the broker's session `clientId` (a clean start with no expiry). */
async function dropSession(clientId: string): Promise<void> {
  const c = await connectClient({ clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
  await c.endAsync();
}

/** A subscriber that records every JSON message on `filter`; `read()` returns them once all published before the call arrived. */
async function recorder(filter: string) {
  const c = await connectClient({ clean: true });
  const got: { topic: string; payload: unknown; retain: boolean }[] = [];
  let barrier = 0;
  const seenBarriers = new Set<number>();
  c.on('message', (topic, message, packet) => {
    const payload = JSON.parse(message.toString('utf8')) as unknown;
    const b = (payload as { __barrier?: number } | null)?.__barrier;
    if (b !== undefined) seenBarriers.add(b);
    else got.push({ topic, payload, retain: packet.retain });
  });
  await c.subscribeAsync(filter, { qos: 1 });
  const barrierTopic = filter.replace(/\/[#+]$/, '') + (filter.endsWith('#') || filter.endsWith('+') ? '/barrier' : '');
  return {
    got,
    /** Everything received so far, after a barrier message published now came back (the broker keeps order per subscriber). */
    async read() {
      const n = ++barrier;
      await c.publishAsync(barrierTopic, JSON.stringify({ __barrier: n }), { qos: 1 });
      await waitFor(() => seenBarriers.has(n), 'the barrier message', 5000);
      return got;
    },
    close: () => c.endAsync(),
  };
}

suite(`MQTT connectors against ${URL ?? '(set TRIBUTARY_MQTT_URL to run)'}`, () => {
  let pub: MqttClient;
  beforeAll(async () => {
    pub = await connectClient();
  });
  afterAll(async () => pub?.endAsync());

  busConformance('MQTT', () => {
    let tag = '';
    let input = '';
    let output = '';
    let clientId = '';
    let out: Awaited<ReturnType<typeof recorder>> | undefined;
    return {
      async setup() {
        tag = randomUUID().slice(0, 8);
        input = `tb/conf/${tag}/in`;
        output = `tb/conf/${tag}/out`;
        clientId = `tb_conf_${tag}`;
        // MQTT keeps messages only for subscriptions: the source's session subscribes first, as a queue is declared first.
        await createSession(clientId, input);
        out = await recorder(output);
      },
      async teardown() {
        await out?.close();
        await dropSession(clientId);
      },
      async publish(payloads) {
        await Promise.all(payloads.map((p) => pub.publishAsync(input, JSON.stringify(p), { qos: 1 })));
      },
      source: ({ maxInFlight, url }) =>
        connectors.mqttSource({ url: url ?? URL, topic: input, clientId, maxInFlight, nackDelay: '50ms', closeTimeout: '100ms' }),
      sourceKind: ({ maxInFlight }) => ({ kind: 'mqtt_source', options: { url: URL, topic: input, clientId, maxInFlight } }),
      port: Number(new globalThis.URL(URL!).port || 1883),
      urlFor: (port) => `mqtt://127.0.0.1:${port}`,
      sink: (o) => connectors.mqttSink({ url: o?.url ?? URL, topic: output }),
      // MQTT has no unroutable publish (no subscriber is not an error) and Mosquitto answers a topic with a
      // wildcard by dropping the connection: the sink refuses such a topic itself, before sending, and nacks.
      unroutableSink: () => connectors.mqttSink({ url: URL, topicFn: () => `${output}/+`, retries: 0 }),
      unroutableReason: /^cannot publish to mqtt:\/\/[\w.]+:\d+: topic 'tb\/conf\/\w+\/out\/\+' holds a wildcard/,
      readOutput: async () => (await out!.read()).map((m) => m.payload),
    };
  });

  describe('MQTT specifics', () => {
    let tag = '';
    const nets: Network[] = [];
    const sessions: string[] = [];
    const recorders: { close(): Promise<unknown> }[] = [];
    beforeEach(() => {
      tag = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
      for (const r of recorders.splice(0)) await r.close();
      for (const s of sessions.splice(0)) await dropSession(s);
    });
    const started = async (net: Network) => {
      nets.push(net);
      await net.start();
      return net;
    };

    it('subscribes to a list of filters with + and #, and tells each event its topic, QoS and retain flag', async () => {
      const clientId = `tb_wild_${tag}`;
      const topic = [`tb/${tag}/+/temp`, `tb/${tag}/alarm/#`];
      sessions.push(clientId);
      await createSession(clientId, topic, 1);
      await pub.publishAsync(`tb/${tag}/k1/humidity`, JSON.stringify({ no: 1 }), { qos: 1 });
      await pub.publishAsync(`tb/${tag}/k1/k2/temp`, JSON.stringify({ no: 2 }), { qos: 1 });
      await pub.publishAsync(`tb/${tag}/alarm/hall/3`, JSON.stringify({ alarm: true }), { qos: 1 });
      await pub.publishAsync(`tb/${tag}/k9/temp`, JSON.stringify({ t: 30 }), { qos: 2 });
      const seen: Event[] = [];
      const net = new Network({ logger: captureLogger() });
      net.add('in', connectors.mqttSource({ url: URL, clientId, topic }));
      net.add('out', nodes.sink({ fn: (_p: unknown, e: Event) => void seen.push(e) }));
      net.link('in', 'out');
      await started(net);
      await waitFor(() => seen.length >= 2, 'the two matching messages');
      // Published after the two: once it is in, nothing else matched.
      await pub.publishAsync(`tb/${tag}/k2/temp`, JSON.stringify({ t: 1 }), { qos: 1 });
      await waitFor(() => seen.length >= 3, 'the marker');
      await waitFor(() => net.stats().out.acked === 3, 'the acks');
      expect(seen.map((e) => e.payload)).toEqual([{ alarm: true }, { t: 30 }, { t: 1 }]);
      expect(seen[0].meta.headers).toEqual({ 'mqtt-topic': `tb/${tag}/alarm/hall/3`, 'mqtt-qos': '1', 'mqtt-retain': 'false' });
      // Published with QoS 2, delivered at the subscription's QoS 1 (the lower of the two).
      expect(seen[1].meta.headers).toEqual({ 'mqtt-topic': `tb/${tag}/k9/temp`, 'mqtt-qos': '1', 'mqtt-retain': 'false' });
    });

    it('QoS 2: a message not settled when the process stopped is redelivered to the next run, then acked for good', async () => {
      const clientId = `tb_q2_${tag}`;
      const topic = `tb/${tag}/q2`;
      sessions.push(clientId);
      await createSession(clientId, topic, 2);
      await pub.publishAsync(topic, JSON.stringify({ n: 1 }), { qos: 2 });
      const first: Event[] = [];
      const a = new Network({ logger: captureLogger() });
      a.add('in', connectors.mqttSource({ url: URL, clientId, topic, qos: 2, closeTimeout: '50ms' }));
      a.add('out', nodes.sink({ fn: (_p: unknown, e: Event) => (first.push(e), new Promise(() => undefined)) }));
      a.link('in', 'out');
      await a.start();
      await waitFor(() => first.length === 1, 'the first delivery');
      expect((await a.stop({ timeout: 50 })).timedOut).toBe(true);

      const second: Event[] = [];
      const b = new Network({ logger: captureLogger() });
      b.add('in', connectors.mqttSource({ url: URL, clientId, topic, qos: 2 }));
      b.add('out', nodes.sink({ fn: (_p: unknown, e: Event) => void second.push(e) }));
      b.link('in', 'out');
      await b.start();
      await waitFor(() => second.length === 1, 'the redelivery');
      expect(second[0].payload).toEqual({ n: 1 });
      expect(second[0].meta.headers).toMatchObject({ 'mqtt-qos': '2', 'mqtt-dup': 'true' });
      await b.stop();

      // Acked this time: a third run gets only what is new.
      const third: unknown[] = [];
      const c = new Network({ logger: captureLogger() });
      c.add('in', connectors.mqttSource({ url: URL, clientId, topic, qos: 2 }));
      c.add('out', nodes.sink({ fn: (p: unknown) => void third.push(p) }));
      c.link('in', 'out');
      await started(c);
      await pub.publishAsync(topic, JSON.stringify({ n: 2 }), { qos: 2 });
      await waitFor(() => third.length >= 1, 'the new message');
      expect(third).toEqual([{ n: 2 }]);
    });

    it('QoS 2 with more messages than maxInFlight: all processed once, never more than maxInFlight open, one connection', async () => {
      const clientId = `tb_q2many_${tag}`;
      const topic = `tb/${tag}/q2many`;
      sessions.push(clientId);
      await createSession(clientId, topic, 2);
      for (let n = 0; n < 40; n++) await pub.publishAsync(topic, JSON.stringify({ n }), { qos: 2 });
      const logger = captureLogger();
      let open = 0;
      let maxOpen = 0;
      const done: number[] = [];
      const net = new Network({ logger });
      net.add('in', connectors.mqttSource({ url: URL, clientId, topic, qos: 2, maxInFlight: 4 }));
      net.add(
        'out',
        nodes.sink({
          concurrency: 50,
          fn: async (p: { n: number }) => {
            maxOpen = Math.max(maxOpen, ++open);
            await new Promise((r) => setTimeout(r, 2));
            open--;
            done.push(p.n);
          },
        }),
      );
      net.link('in', 'out');
      await started(net);
      await waitFor(() => done.length >= 40, 'all 40');
      expect(logger.messages).toEqual([]);
      expect([...done].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
      expect(maxOpen).toBeLessThanOrEqual(4);
      expect(logger.messages).toEqual([]);
    });

    it('sink: QoS 2 and retain; a later subscriber gets the retained message with mqtt-retain true', async () => {
      const topic = `tb/${tag}/status`;
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [{ state: 'up' }], onSettle: settled.onSettle }));
      net.add('out', connectors.mqttSink({ url: URL, topic, qos: 2, retain: true }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      expect(settled.acked()).toEqual([{ state: 'up' }]);

      const clientId = `tb_ret_${tag}`;
      sessions.push(clientId);
      const seen: Event[] = [];
      const reader = new Network({ logger: captureLogger() });
      reader.add('in', connectors.mqttSource({ url: URL, clientId, topic, clean: true }));
      reader.add('out', nodes.sink({ fn: (_p: unknown, e: Event) => void seen.push(e) }));
      reader.link('in', 'out');
      await started(reader);
      await waitFor(() => seen.length === 1, 'the retained message');
      expect(seen[0].payload).toEqual({ state: 'up' });
      expect(seen[0].meta.headers?.['mqtt-retain']).toBe('true');
      await pub.publishAsync(topic, '', { qos: 1, retain: true }); // clears the retained message
    });

    it('sink: the topic comes from the event; headers travel as user properties', async () => {
      const rec = await recorder(`tb/${tag}/alerts/#`);
      recorders.push(rec);
      const props: unknown[] = [];
      const probe = await connectClient();
      probe.on('message', (t, _m, packet) => void (t.endsWith('/barrier') || props.push(packet.properties?.userProperties)));
      await probe.subscribeAsync(`tb/${tag}/alerts/#`, { qos: 1 });
      recorders.push({ close: () => probe.endAsync() });
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      const items = [{ c: 'a' }, { c: 'b' }, { c: 'a' }].map((p, i) =>
        createEvent(p, { headers: { trace: `t${i}`, 'mqtt-topic': 'from/elsewhere' } }),
      );
      net.add('gen', nodes.from({ items, onSettle: settled.onSettle }));
      net.add('out', connectors.mqttSink({ url: URL, topicFn: (p: { c: string }) => `tb/${tag}/alerts/${p.c}` }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      expect(settled.acked()).toHaveLength(3);
      expect((await rec.read()).map((m) => [m.topic, m.payload])).toEqual([
        [`tb/${tag}/alerts/a`, { c: 'a' }],
        [`tb/${tag}/alerts/b`, { c: 'b' }],
        [`tb/${tag}/alerts/a`, { c: 'a' }],
      ]);
      await waitFor(() => props.length === 3, 'the probe');
      // The mqtt-* headers a source set describe where the event came from: they do not travel.
      expect(props).toEqual([{ trace: 't0' }, { trace: 't1' }, { trace: 't2' }]);
    });

    it('sink: a topicFn that returns no topic nacks that event with the reason, the others go out', async () => {
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [{ t: `tb/${tag}/ok` }, { t: '' }, { t: 42 }], onSettle: settled.onSettle }));
      net.add('out', connectors.mqttSink({ url: URL, topicFn: (p: { t: string }) => p.t }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      expect(settled.acked()).toEqual([{ t: `tb/${tag}/ok` }]);
      expect(settled.nacked().map((n) => errorMessage(n.reason))).toEqual([
        expect.stringContaining('"" is not a topic'),
        expect.stringContaining('42 is not a topic'),
      ]);
    });

    it('a payload that does not decode becomes an error event naming the topic, and is acked (not redelivered)', async () => {
      const clientId = `tb_bad_${tag}`;
      const topic = `tb/${tag}/bad`;
      sessions.push(clientId);
      await createSession(clientId, topic);
      await pub.publishAsync(topic, 'oops', { qos: 1 });
      await pub.publishAsync(topic, '{"fine":true}', { qos: 1 });
      const good: unknown[] = [];
      const bad: Event[] = [];
      const logger = captureLogger();
      const a = new Network({ logger });
      a.add('in', connectors.mqttSource({ url: URL, clientId, topic }));
      a.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
      a.add('bad', nodes.sink({ fn: (_p: unknown, e: Event) => void bad.push(e) }));
      a.link('in', 'good');
      a.routeErrors('in', 'bad');
      await a.start();
      await waitFor(() => good.length === 1 && bad.length === 1, 'both messages');
      // Routed errors arrive as { node, error, payload }.
      expect(bad[0].payload).toEqual({
        node: 'in',
        payload: 'oops',
        error: expect.stringContaining(`cannot decode the message on topic '${topic}'`),
      });
      expect((await a.stop()).timedOut).toBe(false);

      const again: unknown[] = [];
      const b = new Network({ logger: captureLogger() });
      b.add('in', connectors.mqttSource({ url: URL, clientId, topic }));
      b.add('out', nodes.sink({ fn: (p) => void again.push(p) }));
      b.link('in', 'out');
      await started(b);
      await pub.publishAsync(topic, '{"next":true}', { qos: 1 });
      await waitFor(() => again.length >= 1, 'the next message');
      expect(again).toEqual([{ next: true }]);
    });

    it('gives up a message nacked maxDeliver times: acked, with an error logged naming the topic', async () => {
      const clientId = `tb_md_${tag}`;
      const topic = `tb/${tag}/md`;
      sessions.push(clientId);
      await createSession(clientId, topic);
      await pub.publishAsync(topic, '{"n":1}', { qos: 1 });
      let attempts = 0;
      const logger = captureLogger();
      const net = new Network({ logger });
      net.add('in', connectors.mqttSource({ url: URL, clientId, topic, nackDelay: '10ms', maxDeliver: 3 }));
      net.add(
        'out',
        nodes.sink({
          fn: () => {
            attempts++;
            throw new Error('always fails');
          },
        }),
      );
      net.link('in', 'out');
      await started(net);
      await waitFor(() => logger.messages.some((m) => m.includes('giving up')), 'the give-up');
      expect(attempts).toBe(3);
      expect(logger.messages.find((m) => m.includes('giving up'))).toContain(`the message on topic '${topic}' after 3 attempt(s)`);
      await net.stop();
    });

    it('logs a dropped connection with the address and reconnects with back-off', async () => {
      const proxy = await tcpProxy(Number(new globalThis.URL(URL!).port || 1883));
      const clientId = `tb_drop_${tag}`;
      const topic = `tb/${tag}/drop`;
      sessions.push(clientId);
      await createSession(clientId, topic);
      const seen: unknown[] = [];
      const logger = captureLogger();
      const net = new Network({ logger });
      net.add('in', connectors.mqttSource({ url: `mqtt://127.0.0.1:${proxy.port}`, clientId, topic }));
      net.add('out', nodes.sink({ fn: (p) => void seen.push(p) }));
      net.link('in', 'out');
      try {
        await started(net);
        await waitFor(() => proxy.open === 1, 'the connection');
        proxy.drop();
        await waitFor(() => proxy.connections >= 2 && proxy.open === 1, 'the reconnect');
        await pub.publishAsync(topic, '{"after":true}', { qos: 1 });
        await waitFor(() => seen.length === 1, 'the message after the reconnect');
        expect(logger.messages.join('\n')).toContain(
          `node 'in': connection to mqtt://127.0.0.1:${proxy.port} lost (connection closed); reconnecting in 250ms`,
        );
        expect(logger.messages.join('\n')).toContain(`node 'in': connected again to mqtt://127.0.0.1:${proxy.port}`);
        await net.stop();
      } finally {
        await proxy.close();
      }
    });

    it('a Lua-built network: mqtt_source (filters as a Lua list) -> mqtt_sink', async () => {
      const clientId = `tb_lua_${tag}`;
      sessions.push(clientId);
      await createSession(clientId, `tb/${tag}/lua/in/#`);
      const rec = await recorder(`tb/${tag}/lua/out`);
      recorders.push(rec);
      const net = new Network({ plugins: builtinPlugins(), logger: captureLogger() });
      const runtime = new LuaRuntime(net);
      runtime.runString(`
        local tb = require('tributary')
        tb.create_mqtt_source("in", { url = ${JSON.stringify(URL)}, topic = { "tb/${tag}/lua/in/#", "tb/${tag}/lua/other" }, client_id = "${clientId}", qos = 1 })
        tb.create_mqtt_sink("out", "tb/${tag}/lua/out")
        tb.link("in", "out")
      `);
      runtime.close();
      nets.push(net);
      await net.start();
      await pub.publishAsync(`tb/${tag}/lua/in/x`, '{"via":"lua"}', { qos: 1 });
      await waitFor(async () => (await rec.read()).length === 1, 'the message through the Lua network');
      expect(rec.got.map((m) => m.payload)).toEqual([{ via: 'lua' }]);
    });
  });
});

/** A local server that takes the TCP connection and refuses the MQTT 5 CONNECT: "bad user name or password". */
async function refusingServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => s.end(Buffer.from([0x20, 0x03, 0x00, 0x86, 0x00])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('MQTT connectors without a broker', () => {
  it('hides the URL password and the password option in every message, from a refusing server and a closed port', async () => {
    const server = await refusingServer();
    const logger = captureLogger();
    const settled = settlements();
    const net = new Network({ logger });
    net.add('in', connectors.mqttSource({ url: `mqtt://app:hunter2@127.0.0.1:${server.port}`, topic: 't' }));
    net.add('work', nodes.discarder());
    net.link('in', 'work');
    // Not even a valid URL (an unencoded '/' and '@' in the password): still nothing of it shows.
    net.add('odd', connectors.mqttSource({ url: `mqtt://app:hun/ter@2@127.0.0.1:${server.port}`, topic: 't' }));
    net.add('work2', nodes.discarder());
    net.link('odd', 'work2');
    net.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
    net.add('out', connectors.mqttSink({ url: 'mqtt://127.0.0.1:1', username: 'app', password: 'sekr3t-pw', topic: 't', retries: 0 }));
    net.link('gen', 'out');
    try {
      await net.start();
      await waitFor(
        () => ['in', 'odd', 'out'].every((n) => logger.messages.filter((m) => m.includes(`node '${n}'`)).length >= 2),
        'two attempts of each',
        10_000,
      );
      const report = await net.stop({ timeout: 100 });
      expect(settled.acked()).toEqual([]);
      const all = [...logger.messages, ...settled.nacked().map((n) => errorMessage(n.reason)), JSON.stringify(report)].join('\n');
      expect(all).toContain(
        `node 'in': cannot connect to mqtt://app:***@127.0.0.1:${server.port}: Connection refused: Bad User Name or Password; retrying in 250ms`,
      );
      expect(all).toContain('retrying in 500ms');
      expect(all).toContain("node 'out': cannot connect to mqtt://127.0.0.1:1");
      expect(all).toContain(`node 'odd': cannot connect to mqtt://app:***@127.0.0.1:${server.port}`);
      for (const secret of ['hunter2', 'hun/ter', 'ter@2', 'hun%2Fter', 'sekr3t-pw']) expect(all).not.toContain(secret);
    } finally {
      await server.close();
    }
  });

  it('a sink that cannot reach the broker keeps its events unacked (never lost)', async () => {
    const settled = settlements();
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('gen', nodes.from({ items: [1, 2], onSettle: settled.onSettle }));
    net.add('out', connectors.mqttSink({ url: 'mqtt://127.0.0.1:1', topic: 't' }));
    net.link('gen', 'out');
    await net.start();
    await waitFor(() => logger.messages.length >= 2, 'two connection attempts', 5000);
    expect(settled.list).toEqual([]);
    const report = await net.stop({ timeout: 100 });
    expect(report.timedOut).toBe(true);
    expect(settled.acked()).toEqual([]);
  });

  it('TLS: an unreadable PEM file is reported naming the option and the path, and the source completes', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add(
      'in',
      connectors.mqttSource({ url: 'mqtts://127.0.0.1:1', topic: 't', ca: '/nonexistent/ca.pem', key: '-----BEGIN KEY-----secretkey' }),
    );
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    const report = await net.done();
    expect(report.stats.in.errors).toBe(1);
    expect(logger.messages.join('\n')).toContain("node 'in': option 'ca': cannot read the PEM file '/nonexistent/ca.pem'");
    expect(logger.messages.join('\n')).not.toContain('secretkey');
  });

  it('validates options with errors naming them (secrets hidden)', () => {
    expect(() => connectors.mqttSource({} as never)).toThrow("node kind 'mqtt_source': option 'topic' is required");
    expect(() => connectors.mqttSource({ topic: [] })).toThrow("option 'topic' must not be an empty list");
    expect(() => connectors.mqttSource({ topic: 'a/#/b' })).toThrow("topic filter 'a/#/b' is malformed");
    expect(() => connectors.mqttSource({ topic: ['a/b+'] })).toThrow("topic filter 'a/b+' is malformed");
    expect(() => connectors.mqttSource({ topic: 'a', qos: 3 })).toThrow("option 'qos' must be at most 2");
    expect(() => connectors.mqttSource({ topic: 'a', maxInFlight: 0 })).toThrow("option 'maxInFlight' must be at least 1");
    expect(() => connectors.mqttSink({})).toThrow("give option 'topic' or 'topicFn'");
    expect(() => connectors.mqttSink({ topic: 'a/+' })).toThrow("option 'topic': topic 'a/+' holds a wildcard");
    expect(() => connectors.mqttSink({ topic: 'a', password: 12345 as never })).toThrow(
      /option 'password' must be a string, got a value \(hidden\)/,
    );
    expect(() => connectors.mqttSink({ topic: 'a', password: 12345 as never })).not.toThrow(/12345/);
  });

  it('the Lua example of each kind builds the node; a Lua list of filters becomes the topic list', () => {
    const net = new Network({ plugins: builtinPlugins() });
    const runtime = new LuaRuntime(net);
    try {
      runtime.runString(`local tb = require('tributary')
        tb.create_mqtt_source("in", { topic = { "a/+", "b/#" }, qos = 2, max_in_flight = 5 })
        tb.create_mqtt_sink("out", "alerts/x")
        tb.link("in", "out")`);
      const built = net.toJSON().nodes;
      expect(built.map((n) => [n.name, n.kind])).toEqual([
        ['in', 'mqtt_source'],
        ['out', 'mqtt_sink'],
      ]);
      expect(() => runtime.runString(`require('tributary').create_mqtt_source("bad", { topic = "x/#/y" })`)).toThrow(
        /mqtt_source.*malformed/,
      );
    } finally {
      runtime.close();
    }
  });
});
