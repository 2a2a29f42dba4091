/**
 * MQTT QoS 1 end to end with acks: messages published to an input topic are consumed,
 * republished to an output topic with QoS 1, and acked to the broker only after that publish
 * was acknowledged — by a Tributary network (mqtt_source → mqtt_sink) and by the bare mqtt
 * client doing the same. Each side runs in its own fresh process; the sides alternate, round
 * after round. This process is the driver: it publishes the input (at most WINDOW messages
 * ahead of what came out, since Mosquitto drops what exceeds its 1000-message queue) and times
 * from the side's "ready" until every id arrived on the output. Same driver, same broker, same
 * load for every side. Prints medians, the spread (interquartile range) and the ratios, and
 * records them in bench/records.json under "mqtt".
 *
 *   TRIBUTARY_MQTT_URL=mqtt://127.0.0.1:1883 npx ts-node --transpile-only bench/mqtt.ts [rounds]
 *
 * The bare client has two anchors, because mqtt.js has no way to ack after processing with
 * several messages open: `bare-serial` acks each message after its republish was acked (the
 * same guarantee as the network, through mqtt.js's documented handleMessage: one at a time),
 * `bare-autoack` republishes 64 at a time but lets mqtt.js ack on receipt (faster, weaker: a
 * crash loses what was acked and not yet republished). BENCH_MQTT_N (default 20000) tunes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
// The sources of this checkout (not a build), as the specs use them.
import { Network } from '../lib/index';
import { connectors } from '../lib/connectors/index';

const URL = process.env.TRIBUTARY_MQTT_URL;
const N = Number(process.env.BENCH_MQTT_N ?? 20_000);
const IN_FLIGHT = 256;
const PUBLISHES = 64;
const WINDOW = 800;
const SIDES = ['bare-serial', 'bare-autoack', 'network'] as const;
type Side = (typeof SIDES)[number];

interface Job {
  side: Side;
  url: string;
  input: string;
  output: string;
  clientId: string;
}

/** What the network does to each payload (json codec): decode, and encode again to publish. */
function recode(payload: Buffer | string): string {
  return JSON.stringify(JSON.parse(payload.toString()));
}

/** The bare mqtt client: consume with a persistent session, republish with QoS 1, ack the input. */
async function bare(job: Job, serial: boolean): Promise<void> {
  const client = mqtt.connect(job.url, {
    protocolVersion: 5,
    clientId: job.clientId,
    clean: false,
    properties: { sessionExpiryInterval: 600, receiveMaximum: IN_FLIGHT },
  });
  const out = mqtt.connect(job.url, { protocolVersion: 5 });
  let release: (() => void) | undefined;
  if (serial) {
    // The documented manual ack: the PUBACK goes when the callback runs; the next message waits.
    client.handleMessage = (packet, callback) => {
      out.publish(job.output, recode(packet.payload), { qos: 1 }, (err) => callback(err ?? undefined));
    };
  } else {
    let active = 0;
    client.handleMessage = (packet, callback) => {
      active++;
      out.publish(job.output, recode(packet.payload), { qos: 1 }, () => {
        active--;
        if (active === PUBLISHES - 1) release?.();
      });
      // mqtt.js acks on this callback; hold it only while PUBLISHES republishes are open.
      if (active < PUBLISHES) callback();
      else release = () => ((release = undefined), callback());
    };
  }
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  process.stdout.write('ready\n');
}

/** The same through a network. */
async function network(job: Job): Promise<void> {
  const net = new Network();
  net.add('in', connectors.mqttSource({ url: job.url, topic: job.input, clientId: job.clientId, qos: 1, maxInFlight: IN_FLIGHT }));
  net.add('out', connectors.mqttSink({ url: job.url, topic: job.output, qos: 1, concurrency: PUBLISHES }));
  net.link('in', 'out');
  await net.start();
  process.stdout.write('ready\n');
}

function connectAsync(o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(URL!, { protocolVersion: 5, reconnectPeriod: 0, ...o });
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

/** One timed run of one side in its own process. */
async function run(side: Side, round: number): Promise<number> {
  const tag = `${side}_${round}_${process.pid}`;
  const job: Job = { side, url: URL!, input: `bench/${tag}/in`, output: `bench/${tag}/out`, clientId: `bench_${tag}` };
  // The session exists before the side starts, as a deployed consumer's would.
  const setup = await connectAsync({ clientId: job.clientId, clean: true, properties: { sessionExpiryInterval: 600 } });
  await setup.subscribeAsync(job.input, { qos: 1 });
  await setup.endAsync();
  const reader = await connectAsync();
  const pub = await connectAsync();
  const seen = new Set<number>();
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  let more: (() => void) | undefined;
  reader.on('message', (_t, m) => {
    seen.add((JSON.parse(m.toString('utf8')) as { id: number }).id);
    more?.();
    if (seen.size === N) finished();
  });
  await reader.subscribeAsync(job.output, { qos: 1 });
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', __filename, '--side', JSON.stringify(job)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`${side} exited ${code} before it was ready`)));
  });
  const t0 = process.hrtime.bigint();
  const body = { customer: 'c1', stake: 5, odds: 2.5, note: 'x'.repeat(40) };
  for (let id = 0; id < N; id++) {
    while (id - seen.size >= WINDOW) await new Promise<void>((resolve) => (more = resolve));
    pub.publish(job.input, JSON.stringify({ ...body, id }), { qos: 1 });
  }
  await all;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  child.kill('SIGKILL');
  await reader.endAsync();
  await pub.endAsync();
  const drop = await connectAsync({ clientId: job.clientId, clean: true, properties: { sessionExpiryInterval: 0 } });
  await drop.endAsync();
  return ms;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--side');
  if (at > 0) {
    const job = JSON.parse(process.argv[at + 1]) as Job;
    if (job.side === 'network') await network(job);
    else await bare(job, job.side === 'bare-serial');
    return;
  }
  if (!URL) {
    console.log('bench/mqtt.ts: set TRIBUTARY_MQTT_URL (e.g. mqtt://127.0.0.1:1883) to run');
    return;
  }
  const rounds = Number(process.argv[2] ?? 5);
  console.log(
    `MQTT QoS 1 end to end: ${N} messages in → (consume, republish QoS 1, ack after the PUBACK) → out; ${rounds} rounds after a warm-up`,
  );
  const samples: Record<Side, number[]> = { 'bare-serial': [], 'bare-autoack': [], network: [] };
  for (let round = 0; round <= rounds; round++) {
    const order = round % 2 ? [...SIDES].reverse() : [...SIDES];
    for (const side of order) {
      const ms = await run(side, round);
      if (round > 0) samples[side].push(ms);
    }
  }
  const stats = Object.fromEntries(
    SIDES.map((side) => {
      const s = [...samples[side]].sort((a, b) => a - b);
      const median = quantile(s, 0.5);
      return [
        side,
        { medianMs: median, q1Ms: quantile(s, 0.25), q3Ms: quantile(s, 0.75), eventsPerSecond: Math.round(N / (median / 1000)) },
      ];
    }),
  ) as Record<Side, { medianMs: number; q1Ms: number; q3Ms: number; eventsPerSecond: number }>;
  for (const side of SIDES) {
    const s = stats[side];
    console.log(
      `  ${side.padEnd(13)} ${String(s.eventsPerSecond).padStart(7)} events/s  (median ${s.medianMs.toFixed(0)} ms, IQR ${s.q1Ms.toFixed(0)}–${s.q3Ms.toFixed(0)})`,
    );
  }
  const ratios = {
    networkVsBareSerial: stats['bare-serial'].medianMs / stats.network.medianMs,
    networkVsBareAutoack: stats['bare-autoack'].medianMs / stats.network.medianMs,
  };
  console.log(`  throughput ratio network / bare-serial  (same guarantee): ${ratios.networkVsBareSerial.toFixed(2)}`);
  console.log(`  throughput ratio network / bare-autoack (acks on receipt): ${ratios.networkVsBareAutoack.toFixed(2)}`);
  const file = path.join(__dirname, 'records.json');
  let results: Record<string, unknown> = {};
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    /* first run */
  }
  results.mqtt = { date: new Date().toISOString(), n: N, rounds, inFlight: IN_FLIGHT, publishes: PUBLISHES, ...stats, ...ratios };
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
