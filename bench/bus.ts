/**
 * End-to-end bus throughput: N messages already in a JetStream stream are consumed, published
 * to another subject of the stream with a JetStream ack, and acked to the consumer — once by a
 * Tributary network (nats_source → nats_sink, ack after the publish was stored) and once by the
 * nats client alone doing the same with the same concurrency. Prints events/s and the ratio.
 *
 *   TRIBUTARY_NATS_URL=nats://127.0.0.1:4222 npx ts-node --transpile-only bench/bus.ts
 *
 * BENCH_BUS_N (default 20000) and BENCH_BUS_ROUNDS (default 3) tune it. Numbers compare within
 * one run; they are not absolute claims.
 */
import { connect, AckPolicy, type NatsConnection, type JsMsg } from 'nats';
import { Network } from 'tributary';
import { connectors } from 'tributary/connectors';
import { rate } from './harness';

const URL = process.env.TRIBUTARY_NATS_URL;
const N = Number(process.env.BENCH_BUS_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_BUS_ROUNDS ?? 3);
const IN_FLIGHT = 256;
const PUBLISHES = 64;

async function prepare(nc: NatsConnection, tag: string): Promise<{ stream: string; input: string; output: string }> {
  const jsm = await nc.jetstreamManager();
  const stream = `TB_BENCH_${tag}`;
  await jsm.streams.delete(stream).catch(() => undefined);
  await jsm.streams.add({ name: stream, subjects: [`bench.${tag}.>`] });
  const input = `bench.${tag}.in`;
  const js = nc.jetstream();
  const body = new TextEncoder().encode(JSON.stringify({ customer: 'c1', stake: 5, odds: 2.5, note: 'x'.repeat(40) }));
  for (let i = 0; i < N; i += 1000) {
    await Promise.all(Array.from({ length: Math.min(1000, N - i) }, () => js.publish(input, body)));
  }
  return { stream, input, output: `bench.${tag}.out` };
}

async function cleanup(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.delete(stream).catch(() => undefined);
}

/**
 * The nats client alone: consume, publish with a JetStream ack (64 at a time), then ack the
 * input. Like the network, it uses one connection to consume and one to publish, and its time
 * includes connecting and creating the consumer.
 */
async function plainClient(url: string, s: { stream: string; input: string; output: string }): Promise<number> {
  const t0 = process.hrtime.bigint();
  const nc = await connect({ servers: url });
  const pub = await connect({ servers: url });
  const jsm = await nc.jetstreamManager();
  await jsm.consumers.add(s.stream, {
    durable_name: 'plain',
    ack_policy: AckPolicy.Explicit,
    filter_subject: s.input,
    max_ack_pending: 1000,
  });
  const js = pub.jetstream();
  const messages = await (await nc.jetstream().consumers.get(s.stream, 'plain')).consume({ max_messages: IN_FLIGHT });
  let done = 0;
  let active = 0;
  let wake: (() => void) | undefined;
  let finished!: () => void;
  const all = new Promise<void>((r) => (finished = r));
  const handle = (m: JsMsg) => {
    active++;
    js.publish(s.output, m.data).then(
      () => {
        m.ack();
        active--;
        wake?.();
        if (++done === N) finished();
      },
      (err) => {
        m.nak();
        active--;
        wake?.();
        console.error(err);
      },
    );
  };
  void (async () => {
    for await (const m of messages) {
      while (active >= PUBLISHES) await new Promise<void>((r) => (wake = r));
      handle(m);
      if (done + active >= N && active === 0) break;
    }
  })();
  await all;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await messages.close();
  await nc.drain();
  await pub.drain();
  return ms;
}

/** The same through a network: nats_source (JetStream) → nats_sink (JetStream), acks after the publish. */
async function network(url: string, s: { stream: string; input: string; output: string }): Promise<number> {
  const net = new Network();
  net.add('in', connectors.natsSource({ url, stream: s.stream, subject: s.input, durable: 'network', maxInFlight: IN_FLIGHT }));
  net.add('out', connectors.natsSink({ url, subject: s.output, concurrency: PUBLISHES }));
  net.link('in', 'out');
  const t0 = process.hrtime.bigint();
  await net.start();
  while (net.stats().out.acked < N) await new Promise((r) => setTimeout(r, 2));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await net.stop();
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  if (!URL) {
    console.log('bench/bus.ts: set TRIBUTARY_NATS_URL (e.g. nats://127.0.0.1:4222) to run');
    return;
  }
  const admin = await connect({ servers: URL });
  const times = { plain: [] as number[], network: [] as number[] };
  console.log(`bus throughput: ${N} messages JetStream → (consume, publish with ack, ack) → JetStream; ${ROUNDS} rounds after a warm-up`);
  for (let round = 0; round <= ROUNDS; round++) {
    for (const which of (round % 2 ? ['network', 'plain'] : ['plain', 'network']) as ('plain' | 'network')[]) {
      const s = await prepare(admin, `${which}${round}_${process.pid}`);
      const ms = which === 'plain' ? await plainClient(URL, s) : await network(URL, s);
      await cleanup(admin, s.stream);
      if (round > 0) times[which].push(ms);
    }
  }
  await admin.close();
  const plain = median(times.plain);
  const net = median(times.network);
  console.log(
    `  nats client alone : ${rate(N, plain).padStart(18)}  (median ${plain.toFixed(0)} ms; runs ${times.plain.map((t) => t.toFixed(0)).join(', ')})`,
  );
  console.log(
    `  tributary network : ${rate(N, net).padStart(18)}  (median ${net.toFixed(0)} ms; runs ${times.network.map((t) => t.toFixed(0)).join(', ')})`,
  );
  console.log(`  ratio network/plain throughput: ${(plain / net).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
