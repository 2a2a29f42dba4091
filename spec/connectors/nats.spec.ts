import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection, type JetStreamManager } from 'nats';
import { Network, nodes, errorMessage } from 'tributary';
import { connectors } from 'tributary/connectors';
import { busConformance } from './bus-conformance';
import { captureLogger, settlements, trackingScheduler, waitFor } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const enc = new TextEncoder();

/** A fresh stream with an input and an output subject. */
async function freshStreams(nc: NatsConnection) {
  const tag = randomUUID().slice(0, 8);
  const jsm = await nc.jetstreamManager();
  const stream = `TB_${tag}`;
  await jsm.streams.add({ name: stream, subjects: [`tb.${tag}.>`] });
  return { jsm, stream, tag, input: `tb.${tag}.in`, output: `tb.${tag}.out` };
}

async function readSubject(jsm: JetStreamManager, stream: string, subject: string): Promise<unknown[]> {
  const info = await jsm.streams.info(stream);
  const out: unknown[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (m && m.subject === subject) out.push(m.json());
  }
  return out;
}

suite(`NATS connectors against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: URL });
  });
  afterAll(async () => nc?.close());

  busConformance('NATS JetStream', () => {
    let s: Awaited<ReturnType<typeof freshStreams>>;
    return {
      async setup() {
        s = await freshStreams(nc);
      },
      async teardown() {
        await s.jsm.streams.delete(s.stream).catch(() => undefined);
      },
      async publish(payloads) {
        const js = nc.jetstream();
        await Promise.all(payloads.map((p) => js.publish(s.input, enc.encode(JSON.stringify(p)))));
      },
      source: ({ maxInFlight, url }) =>
        connectors.natsSource({
          url: url ?? URL,
          subject: s.input,
          stream: s.stream,
          durable: 'conformance',
          ackWait: '1s',
          maxInFlight,
          closeTimeout: '100ms',
        }),
      sourceKind: ({ maxInFlight }) => ({
        kind: 'nats_source',
        options: { url: URL, subject: s.input, stream: s.stream, durable: 'conformance', ackWait: '1s', maxInFlight },
      }),
      port: Number(new globalThis.URL(URL!).port || 4222),
      urlFor: (port) => `nats://127.0.0.1:${port}`,
      sink: (o) => connectors.natsSink({ url: o?.url ?? URL, subject: s.output }),
      // No stream captures this subject: JetStream has no responder for it.
      unroutableSink: () => connectors.natsSink({ url: URL, subject: `nostream.${s.tag}.out`, retries: 0 }),
      unroutableReason: /JetStream publish to 'nostream\.\w+\.out' at .*(503|no responders)/i,
      readOutput: () => readSubject(s.jsm, s.stream, s.output),
    };
  });

  describe('NATS specifics', () => {
    let s: Awaited<ReturnType<typeof freshStreams>>;
    const nets: Network[] = [];
    beforeEach(async () => {
      s = await freshStreams(nc);
    });
    afterEach(async () => {
      for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
      await s.jsm.streams.delete(s.stream).catch(() => undefined);
    });

    it('turns a message that is not JSON into an error event with the raw text, and keeps going', async () => {
      const js = nc.jetstream();
      await js.publish(s.input, enc.encode('{"ok":1}'));
      await js.publish(s.input, enc.encode('not json'));
      await js.publish(s.input, enc.encode('{"ok":2}'));
      const good: unknown[] = [];
      const bad: unknown[] = [];
      const net = new Network({ logger: captureLogger() });
      net.add('in', connectors.natsSource({ url: URL, subject: s.input, stream: s.stream, maxDeliver: 1 }));
      net.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
      net.add('bad', nodes.sink({ fn: (p) => void bad.push(p) }));
      net.link('in', 'good');
      net.routeErrors('in', 'bad');
      nets.push(net);
      await net.start();
      await waitFor(() => good.length === 2 && bad.length === 1, 'three messages');
      expect(good).toEqual([{ ok: 1 }, { ok: 2 }]);
      expect(JSON.stringify(bad[0])).toContain('not json');
      expect(JSON.stringify(bad[0])).toContain('cannot decode message 2');
      // The consumer's backlog, as the last message reported it: the source's lag for the metrics.
      expect(net.progress().in).toMatchObject({ lag: 0, unit: 'messages' });
    });

    it('redelivers a nacked message through nak() (ackWait 1h, so only the nak can bring it back)', async () => {
      const js = nc.jetstream();
      await js.publish(s.input, enc.encode('{"id":7}'));
      const attempts: number[] = [];
      const net = new Network({ logger: captureLogger() });
      net.add(
        'in',
        connectors.natsSource({ url: URL, subject: s.input, stream: s.stream, ackWait: '1h', nackDelay: '100ms', closeTimeout: '100ms' }),
      );
      net.add(
        'out',
        nodes.sink({
          fn: (p: { id: number }) => {
            attempts.push(p.id);
            if (attempts.length === 1) throw new Error('first try fails');
          },
        }),
      );
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      await waitFor(() => attempts.length >= 2, 'the redelivery after the nack', 4000);
      expect(attempts.slice(0, 2)).toEqual([7, 7]);
      await waitFor(async () => (await s.jsm.consumers.info(s.stream, 'in')).num_ack_pending === 0, 'the ack of the second delivery');
    });

    it('terminates a message that cannot be decoded once its error event is nacked: no redelivery loop', async () => {
      const js = nc.jetstream();
      await js.publish(s.input, enc.encode('not json'));
      const logger = captureLogger();
      const good: unknown[] = [];
      const net = new Network({ logger });
      // No error route: the sink nacks the error event. nackDelay 0 would redeliver at once if it were nak'ed.
      net.add(
        'in',
        connectors.natsSource({ url: URL, subject: s.input, stream: s.stream, ackWait: '1h', nackDelay: 0, closeTimeout: '100ms' }),
      );
      net.add('out', nodes.sink({ fn: (p) => void good.push(p) }));
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      await waitFor(() => logger.messages.some((m) => m.includes('cannot decode')), 'the error event');
      await js.publish(s.input, enc.encode('{"ok":1}'));
      await waitFor(() => good.length === 1, 'the good message after it');
      await waitFor(async () => (await s.jsm.consumers.info(s.stream, 'in')).num_ack_pending === 0, 'nothing pending');
      const info = await s.jsm.consumers.info(s.stream, 'in');
      expect(info.num_redelivered).toBe(0);
      expect(info.delivered.consumer_seq).toBe(2);
      expect(logger.messages.filter((m) => m.includes('cannot decode'))).toHaveLength(1);
    });

    it('redelivers a message whose ack does not come within ackWait, while the first copy is still in flight', async () => {
      const js = nc.jetstream();
      await js.publish(s.input, enc.encode('{"id":0}'));
      const deliveries: number[] = [];
      const net = new Network({ logger: captureLogger() });
      net.add('in', connectors.natsSource({ url: URL, subject: s.input, stream: s.stream, ackWait: '500ms', closeTimeout: '100ms' }));
      // The first delivery hangs; the redelivered copy is acked.
      net.add(
        'out',
        nodes.sink({
          fn: (p: { id: number }) => {
            deliveries.push(p.id);
            return deliveries.length === 1 ? new Promise(() => undefined) : undefined;
          },
          concurrency: 4,
        }),
      );
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      await waitFor(() => deliveries.length >= 2, 'the redelivery');
      expect(deliveries.slice(0, 2)).toEqual([0, 0]);
      await waitFor(async () => (await s.jsm.consumers.info(s.stream, 'in')).num_ack_pending === 0, 'the ack of the second copy');
    });

    it('sets the subject header and routes per event with subjectFn', async () => {
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [{ c: 'a' }, { c: 'b' }] }));
      net.add('out', connectors.natsSink({ url: URL, subjectFn: (p: { c: string }) => `tb.${s.tag}.cust.${p.c}` }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      expect(await readSubject(s.jsm, s.stream, `tb.${s.tag}.cust.b`)).toEqual([{ c: 'b' }]);

      const seen: string[] = [];
      const reader = new Network({ logger: captureLogger() });
      reader.add('in', connectors.natsSource({ url: URL, subject: `tb.${s.tag}.cust.*`, stream: s.stream }));
      reader.add('out', nodes.handler({ fn: (e) => void seen.push(e.meta.headers!['nats-subject']) }));
      reader.link('in', 'out');
      nets.push(reader);
      await reader.start();
      await waitFor(() => seen.length === 2, 'two messages');
      expect(seen).toEqual([`tb.${s.tag}.cust.a`, `tb.${s.tag}.cust.b`]);
    });

    it('core NATS: a subject source and sink (no JetStream)', async () => {
      const got: unknown[] = [];
      const reader = new Network({ logger: captureLogger() });
      reader.add('in', connectors.natsSource({ url: URL, subject: `core.${s.tag}` }));
      reader.add('out', nodes.sink({ fn: (p) => void got.push(p) }));
      reader.link('in', 'out');
      nets.push(reader);
      await reader.start();
      // Wait until the subscription is live: ping through it.
      await waitFor(async () => {
        nc.publish(`core.${s.tag}`, enc.encode('"ping"'));
        await nc.flush();
        await new Promise((r) => setTimeout(r, 10));
        return got.length > 0;
      }, 'the core subscription');
      const writer = new Network({ logger: captureLogger() });
      writer.add('gen', nodes.from({ items: [1, 2, 3] }));
      writer.add('out', connectors.natsSink({ url: URL, subject: `core.${s.tag}`, jetstream: false }));
      writer.link('gen', 'out');
      await writer.start();
      await writer.done();
      await waitFor(() => got.filter((x) => x !== 'ping').length === 3, 'three core messages');
      expect(got.filter((x) => x !== 'ping')).toEqual([1, 2, 3]);
    });

    it('nacks with the subject and address when JetStream has no stream for the subject', async () => {
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
      net.add('out', connectors.natsSink({ url: URL, subject: `nostream.${s.tag}`, retries: 0 }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      const msg = errorMessage(settled.nacked()[0].reason);
      expect(msg).toContain(`JetStream publish to 'nostream.${s.tag}' at ${URL}`);
    });

    it('sink: a cut-off stop ends the JetStream publish retries (no back-off left waiting)', async () => {
      const scheduler = trackingScheduler();
      const settled = settlements();
      const net = new Network({ logger: captureLogger(), scheduler });
      net.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
      net.add('out', connectors.natsSink({ url: URL, subject: `nostream.${s.tag}`, retries: 8 }));
      net.link('gen', 'out');
      await net.start();
      // Back-off 250, 500, 1000, then 2000ms: stop while that one waits, which would outlast the check below.
      await waitFor(() => scheduler.pending().some((d) => d >= 2000), 'a 2s retry wait', 4000);
      await net.stop({ timeout: 20 });
      await waitFor(() => scheduler.pending().length === 0, 'the retry wait to be cancelled', 1000);
      expect(settled.acked()).toEqual([]);
      expect(settled.nacked().map((n) => n.payload)).toEqual([1]);
    });

    it('names the stream and address when the stream does not exist', async () => {
      const logger = captureLogger();
      const net = new Network({ logger });
      net.add('in', connectors.natsSource({ url: URL, subject: 'x', stream: `NOPE_${s.tag}` }));
      net.add('out', nodes.discarder());
      net.link('in', 'out');
      nets.push(net);
      await net.start();
      await waitFor(() => logger.messages.length > 0, 'an error');
      expect(logger.messages[0]).toContain(`JetStream stream 'NOPE_${s.tag}' at ${URL}`);
    });
  });
});

describe('NATS connectors without a server', () => {
  it('reports the address it cannot reach, retries with back-off, and stops cleanly', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('in', connectors.natsSource({ url: 'nats://127.0.0.1:1', subject: 'x', stream: 'S' }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    await net.start();
    await waitFor(() => logger.messages.length >= 2, 'two connection attempts', 10_000);
    expect(logger.messages[0]).toMatch(/node 'in': cannot connect to nats:\/\/127\.0\.0\.1:1: .*; retrying in 250ms/);
    expect(logger.messages[1]).toContain('retrying in 500ms');
    const report = await net.stop();
    expect(report.timedOut).toBe(false);
  });

  it('hides the password of the URL in every message (source and sink)', async () => {
    const logger = captureLogger();
    const net = new Network({ logger });
    net.add('in', connectors.natsSource({ url: 'nats://app:hunter2@127.0.0.1:1', subject: 'x', stream: 'S' }));
    net.add('out', nodes.discarder());
    net.link('in', 'out');
    net.add('gen', nodes.from({ items: [1] }));
    net.add('pub', connectors.natsSink({ url: 'nats://app:hunter2@127.0.0.1:1', subject: 'x', retries: 0 }));
    net.link('gen', 'pub');
    await net.start();
    await waitFor(
      () => logger.messages.filter((m) => m.includes("node 'pub'")).length >= 1 && logger.messages.length >= 3,
      'attempts',
      10_000,
    );
    expect(logger.messages.join('\n')).toContain('nats://app:***@127.0.0.1:1');
    await net.stop({ timeout: '1s' });
    expect(logger.messages.join('\n')).not.toContain('hunter2');
  });

  it('validates options with errors naming them', () => {
    expect(() => connectors.natsSource({} as never)).toThrow("node kind 'nats_source': option 'subject' is required");
    expect(() => connectors.natsSource({ subject: 'a', durable: 'd' })).toThrow("option 'durable' needs option 'stream'");
    expect(() => connectors.natsSource({ subject: 'a', stream: 'S', queue: 'q' })).toThrow("option 'queue' is for core subscriptions");
    expect(() => connectors.natsSource({ subject: 'a', maxInFlight: 0 })).toThrow("option 'maxInFlight' must be at least 1");
    expect(() => connectors.natsSink({})).toThrow("give option 'subject' or 'subjectFn'");
    expect(() => connectors.natsSink({ subject: 'a', codec: 'xml' as never })).toThrow("option 'codec' must be one of");
  });
});
