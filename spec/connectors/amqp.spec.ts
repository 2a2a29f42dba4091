import { randomUUID } from 'node:crypto';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { Network, nodes, errorMessage } from 'tributary';
import { connectors } from 'tributary/connectors';
import { busConformance } from './bus-conformance';
import { amqpChannelCloser, captureLogger, settlements, tcpProxy, trackingScheduler, waitFor } from './helpers';

const URL = process.env.TRIBUTARY_AMQP_URL;
const suite = URL ? describe : describe.skip;

/** Takes every message waiting in a queue (acking them). */
async function drainQueue(ch: Channel, queue: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (!m) return out;
    out.push(JSON.parse(m.content.toString('utf8')));
  }
}

suite(`RabbitMQ connectors against ${URL ? URL.replace(/:[^:@/]+@/, ':***@') : '(set TRIBUTARY_AMQP_URL to run)'}`, () => {
  let conn: ChannelModel;
  let ch: Channel;
  beforeAll(async () => {
    conn = await amqp.connect(URL!);
    ch = await conn.createConfirmChannel();
  });
  afterAll(async () => conn?.close());

  busConformance('RabbitMQ', () => {
    let input = '';
    let output = '';
    let received: unknown[] = [];
    return {
      async setup() {
        const tag = randomUUID().slice(0, 8);
        input = `tb.conf.${tag}.in`;
        output = `tb.conf.${tag}.out`;
        received = [];
        await ch.assertQueue(input, { durable: true });
        await ch.assertQueue(output, { durable: true });
      },
      async teardown() {
        await ch.deleteQueue(input).catch(() => undefined);
        await ch.deleteQueue(output).catch(() => undefined);
      },
      async publish(payloads) {
        for (const p of payloads) ch.sendToQueue(input, Buffer.from(JSON.stringify(p)), { persistent: true });
        await (ch as amqp.ConfirmChannel).waitForConfirms();
      },
      source: ({ maxInFlight, url }) =>
        connectors.amqpSource({ url: url ?? URL, queue: input, prefetch: maxInFlight, closeTimeout: '100ms' }),
      sourceKind: ({ maxInFlight }) => ({ kind: 'amqp_source', options: { url: URL, queue: input, prefetch: maxInFlight } }),
      port: Number(new globalThis.URL(URL!).port || 5672),
      urlFor: (port) => {
        const u = new globalThis.URL(URL!);
        u.hostname = '127.0.0.1';
        u.port = String(port);
        return u.href;
      },
      sink: (o) => connectors.amqpSink({ url: o?.url ?? URL, routingKey: output }),
      // The default exchange routes by queue name: no queue has this one.
      unroutableSink: () => connectors.amqpSink({ url: URL, routingKey: `${output}.nowhere`, retries: 0 }),
      unroutableReason: /^unroutable: exchange '', key 'tb\.conf\.\w+\.out\.nowhere'/,
      async readOutput() {
        received.push(...(await drainQueue(ch, output)));
        return received;
      },
    };
  });

  describe('RabbitMQ specifics', () => {
    let tag = '';
    const nets: Network[] = [];
    beforeEach(() => {
      tag = randomUUID().slice(0, 8);
    });
    afterEach(async () => {
      for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
    });

    it('with requeue: false, a nacked message goes to the dead-letter exchange', async () => {
      const dlx = `tb.dlx.${tag}`;
      const dlq = `tb.dlq.${tag}`;
      const queue = `tb.dl.${tag}`;
      await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: false });
      await ch.assertQueue(dlq, { durable: false });
      await ch.bindQueue(dlq, dlx, '');
      // Declared as the source declares it, so messages can be sent before the source is up.
      await ch.assertQueue(queue, { durable: true, deadLetterExchange: dlx });
      const net = new Network({ logger: captureLogger() });
      net.add('in', connectors.amqpSource({ url: URL, queue, deadLetterExchange: dlx, requeue: false }));
      net.add(
        'out',
        nodes.sink({
          fn: (p: { n: number }) => {
            if (p.n === 2) throw new Error('two is bad');
          },
        }),
      );
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      for (const n of [1, 2, 3]) ch.sendToQueue(queue, Buffer.from(JSON.stringify({ n })));
      await (ch as amqp.ConfirmChannel).waitForConfirms();
      const dead: unknown[] = [];
      await waitFor(async () => {
        dead.push(...(await drainQueue(ch, dlq)));
        return dead.length === 1;
      }, 'a dead letter');
      expect(dead).toEqual([{ n: 2 }]);
      await waitFor(async () => (await ch.checkQueue(queue)).messageCount === 0 && net.stats().out.acked === 2, 'the others acked');
      await net.stop();
      await ch.deleteQueue(queue);
      await ch.deleteQueue(dlq);
      await ch.deleteExchange(dlx);
    });

    it('a message that cannot be decoded, once its error event is nacked, goes to the dead-letter exchange (not requeued)', async () => {
      const dlx = `tb.dlx.${tag}`;
      const dlq = `tb.dlq.${tag}`;
      const queue = `tb.undecodable.${tag}`;
      await ch.assertExchange(dlx, 'fanout', { durable: false, autoDelete: false });
      await ch.assertQueue(dlq, { durable: false });
      await ch.bindQueue(dlq, dlx, '');
      await ch.assertQueue(queue, { durable: true, deadLetterExchange: dlx });
      const logger = captureLogger();
      const net = new Network({ logger });
      // requeue stays at its default (true): only the decode failure is rejected for good.
      net.add('in', connectors.amqpSource({ url: URL, queue, deadLetterExchange: dlx }));
      net.add('out', nodes.sink({ fn: () => undefined })); // nacks the error event
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      ch.sendToQueue(queue, Buffer.from('oops'));
      await (ch as amqp.ConfirmChannel).waitForConfirms();
      let dead: string | undefined;
      await waitFor(
        async () => {
          const m = await ch.get(dlq, { noAck: true });
          if (m) dead = m.content.toString('utf8');
          return dead !== undefined;
        },
        'the dead letter',
        4000,
      );
      expect(dead).toBe('oops');
      expect(logger.messages.filter((m) => m.includes('cannot decode'))).toHaveLength(1);
      await net.stop();
      await ch.deleteQueue(queue);
      await ch.deleteQueue(dlq);
      await ch.deleteExchange(dlx);
    });

    it('publishes to a topic exchange with a routing key per event, declaring the exchange', async () => {
      const exchange = `tb.alerts.${tag}`;
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [{ c: 'a' }, { c: 'b' }], onSettle: settled.onSettle }));
      net.add(
        'out',
        connectors.amqpSink({ url: URL, exchange, exchangeType: 'topic', routingKeyFn: (p: { c: string }) => `liability.${p.c}` }),
      );
      net.link('gen', 'out');
      // Bind a queue to the exchange first, so the published messages are routed somewhere.
      await ch.assertExchange(exchange, 'topic', { durable: true });
      const q = (await ch.assertQueue('', { exclusive: true })).queue;
      await ch.bindQueue(q, exchange, 'liability.b');
      await net.start();
      await net.done();
      // Only liability.b is bound: the broker returns the other publish, which is nacked, not acked.
      expect(settled.acked()).toEqual([{ c: 'b' }]);
      expect(settled.nacked().map((n) => [n.payload, errorMessage(n.reason)])).toEqual([
        [{ c: 'a' }, expect.stringMatching(`^unroutable: exchange '${exchange.replace(/\./g, '\\.')}', key 'liability\\.a'`)],
      ]);
      expect(await drainQueue(ch, q)).toEqual([{ c: 'b' }]);
      await ch.deleteExchange(exchange);
    });

    it('sink: a channel error (missing exchange) reopens only the channel: one connection, closed when done', async () => {
      const proxy = await tcpProxy(Number(new globalThis.URL(URL!).port || 5672));
      const u = new globalThis.URL(URL!);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [1, 2, 3], onSettle: settled.onSettle }));
      // Each publish to a missing exchange closes the channel (404); with retries, six channel errors in all.
      net.add('out', connectors.amqpSink({ url: u.href, exchange: `tb.missing.${tag}`, routingKey: 'k', retries: 1, concurrency: 1 }));
      net.link('gen', 'out');
      try {
        await net.start();
        await net.done();
        expect(settled.nacked().map((n) => n.payload)).toEqual([1, 2, 3]);
        expect(errorMessage(settled.nacked()[0].reason)).toContain(`tb.missing.${tag}`);
        expect(proxy.connections).toBe(1);
        await waitFor(() => proxy.open === 0, 'the sink connection to close', 5000);
      } finally {
        await proxy.close();
      }
    });

    it('source: when the broker closes only its channel (connection alive), it warns with the address and consumes again', async () => {
      const queue = `tb.chclose.${tag}`;
      await ch.assertQueue(queue, { durable: true });
      const proxy = await amqpChannelCloser(Number(new globalThis.URL(URL!).port || 5672));
      const u = new globalThis.URL(URL!);
      u.hostname = '127.0.0.1';
      u.port = String(proxy.port);
      const seen: number[] = [];
      const logger = captureLogger();
      const net = new Network({ logger });
      net.add('in', connectors.amqpSource({ url: u.href, queue, closeTimeout: '100ms' }));
      net.add('out', nodes.sink({ fn: (p: { n: number }) => void seen.push(p.n) }));
      net.link('in', 'out');
      nets.push(net);
      try {
        await net.start();
        ch.sendToQueue(queue, Buffer.from(JSON.stringify({ n: 1 })));
        await waitFor(() => seen.includes(1), 'the first message');
        proxy.closeChannel(1);
        await waitFor(() => logger.messages.some((m) => m.includes('closed')), 'a warning about the closed channel', 5000);
        ch.sendToQueue(queue, Buffer.from(JSON.stringify({ n: 2 })));
        await waitFor(() => seen.includes(2), 'the message sent after the channel closed', 10_000);
        expect(logger.messages.join('\n')).toContain(`channel consuming queue '${queue}' at amqp://guest:***@127.0.0.1:${proxy.port}`);
        expect(proxy.connections).toBe(2);
        await net.stop({ timeout: 1000 });
      } finally {
        await proxy.close();
        await ch.deleteQueue(queue);
      }
    });

    it('sink: a cut-off stop ends the publish retries (no back-off left waiting)', async () => {
      const scheduler = trackingScheduler();
      const settled = settlements();
      const net = new Network({ logger: captureLogger(), scheduler });
      net.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
      // A missing exchange fails each publish: the sink waits 250ms, 500ms, ... between retries.
      net.add('out', connectors.amqpSink({ url: URL, exchange: `tb.missing.${tag}`, routingKey: 'k', retries: 8 }));
      net.link('gen', 'out');
      await net.start();
      // Back-off 250, 500, 1000, then 2000ms: stop while that one waits, which would outlast the check below.
      await waitFor(() => scheduler.pending().some((d) => d >= 2000), 'a 2s retry wait', 4000);
      await net.stop({ timeout: 20 });
      await waitFor(() => scheduler.pending().length === 0, 'the retry wait to be cancelled', 1000);
      expect(settled.acked()).toEqual([]);
      expect(settled.nacked().map((n) => n.payload)).toEqual([1]);
    });

    it('turns a message that is not JSON into an error event carrying the raw text', async () => {
      const queue = `tb.bad.${tag}`;
      await ch.assertQueue(queue, { durable: true });
      ch.sendToQueue(queue, Buffer.from('oops'));
      ch.sendToQueue(queue, Buffer.from('{"fine":true}'));
      await (ch as amqp.ConfirmChannel).waitForConfirms();
      const errors: unknown[] = [];
      const good: unknown[] = [];
      const net = new Network({ logger: captureLogger() });
      net.add('in', connectors.amqpSource({ url: URL, queue }));
      net.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
      net.add('bad', nodes.sink({ fn: (p) => void errors.push(p) }));
      net.link('in', 'good');
      net.routeErrors('in', 'bad');
      nets.push(net);
      await net.start();
      await waitFor(() => good.length === 1 && errors.length === 1, 'both messages');
      expect(JSON.stringify(errors[0])).toContain('oops');
      await net.stop();
      await ch.deleteQueue(queue);
    });
  });
});

describe('RabbitMQ connectors without a broker', () => {
  it('reports the address with the password hidden, retries with back-off, and stops cleanly', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('in', connectors.amqpSource({ url: 'amqp://app:hunter2@127.0.0.1:1', queue: 'q' }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    await waitFor(() => logger.messages.length >= 2, 'two connection attempts', 10_000);
    expect(logger.messages[0]).toContain("node 'in': cannot connect to amqp://app:***@127.0.0.1:1");
    expect(logger.messages[1]).toContain('retrying in 500ms');
    expect(logger.messages.join('\n')).not.toContain('hunter2');
    expect((await net.stop()).timedOut).toBe(false);
  });

  it('hides a password holding an unencoded "/" or "@" in every message', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('in', connectors.amqpSource({ url: 'amqp://app:hun/ter@2@127.0.0.1:1/vh', queue: 'q' }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    await waitFor(() => logger.messages.length >= 2, 'two connection attempts', 10_000);
    expect(logger.messages[0]).toContain("node 'in': cannot connect to amqp://app:***@127.0.0.1:1/vh");
    const all = logger.messages.join('\n');
    for (const part of ['hun/ter', 'ter@2', 'hun%2Fter']) expect(all).not.toContain(part);
    await net.stop();
  });

  it('a sink that cannot reach the broker keeps its events unacked (never lost), logging the address', async () => {
    const settled = settlements();
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
    net.add('out', connectors.amqpSink({ url: 'amqp://127.0.0.1:1', exchange: 'x', routingKey: 'k', retries: 0 }));
    net.link('gen', 'out');
    await net.start();
    await waitFor(() => logger.messages.length > 0, 'a connection error', 4000);
    expect(logger.messages[0]).toContain("node 'out': cannot connect to amqp://127.0.0.1:1");
    const report = await net.stop({ timeout: 100 });
    expect(report.timedOut).toBe(true);
    expect(settled.acked()).toEqual([]);
  });

  it('validates options with errors naming them', () => {
    expect(() => connectors.amqpSource({} as never)).toThrow("node kind 'amqp_source': option 'queue' is required");
    expect(() => connectors.amqpSource({ queue: 'q', prefetch: 0 })).toThrow("option 'prefetch' must be at least 1");
    expect(() => connectors.amqpSource({ queue: 'q', assertQueue: false, bindExchange: 'x' })).toThrow('needs assertQueue: true');
    expect(() => connectors.amqpSink({ exchange: 'x' })).toThrow("give option 'routingKey' or 'routingKeyFn'");
    expect(() => connectors.amqpSink({ routingKey: 'k', exchangeType: 'topic' })).toThrow("option 'exchangeType' needs a named 'exchange'");
  });
});
