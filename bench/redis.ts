/**
 * Redis Streams end to end with acks: N entries already in a stream are read through a
 * consumer group, each appended to another stream with XADD, and XACKed once the XADD was
 * answered — once by a Tributary network (redis_stream_source → redis_stream_sink) and once by
 * ioredis alone doing the same (XREADGROUP + XADD + XACK, the same in-flight cap and
 * publishes at once). Each side runs in its own fresh process, alternating, after a warm-up
 * round; the time includes connecting and creating the group, and ends once every XACK was
 * answered (the network: once its stop resolved). Prints medians with their spread and the
 * throughput ratio.
 *
 *   TRIBUTARY_REDIS_URL=redis://127.0.0.1:6379 npx ts-node --transpile-only bench/redis.ts
 *
 * BENCH_REDIS_N (default 20000) and BENCH_REDIS_ROUNDS (default 5) tune it. Numbers compare
 * within one run; they are not absolute claims.
 */
import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { Network } from '../lib/index';
import { connectors } from '../lib/connectors/index';
import { rate } from './harness';

const URL = process.env.TRIBUTARY_REDIS_URL;
const N = Number(process.env.BENCH_REDIS_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_REDIS_ROUNDS ?? 5);
const IN_FLIGHT = 256;
const PUBLISHES = 64;
type Side = 'plain' | 'network';

/** ioredis alone: XREADGROUP (COUNT up to the free in-flight room), XADD 64 at a time, XACK batched per tick. */
async function plainClient(url: string, input: string, output: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const reader = new Redis(url);
  const cmd = new Redis(url);
  const pub = new Redis(url);
  await cmd.xgroup('CREATE', input, 'plain', '0', 'MKSTREAM');
  let acked = 0;
  let open = 0; // read, not yet acked
  let active = 0; // XADDs awaiting their reply
  const queue: [string, Buffer][] = [];
  let acks: string[] = [];
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  let wake: (() => void) | undefined;
  const flush = () => {
    const ids = acks;
    acks = [];
    void cmd.xack(input, 'plain', ...ids).then(() => {
      acked += ids.length;
      open -= ids.length;
      wake?.();
      if (acked === N) finished();
    });
  };
  const pump = () => {
    while (active < PUBLISHES && queue.length) {
      const [id, data] = queue.shift()!;
      active++;
      void pub.xadd(output, '*', 'data', data).then(() => {
        active--;
        if (acks.push(id) === 1) queueMicrotask(flush);
        pump();
      });
    }
  };
  while (acked + open < N) {
    while (open >= IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    const reply = (await reader.callBuffer(
      'XREADGROUP',
      'GROUP',
      'plain',
      'c1',
      'COUNT',
      Math.min(IN_FLIGHT - open, 256),
      'BLOCK',
      1000,
      'STREAMS',
      input,
      '>',
    )) as [Buffer, [Buffer, Buffer[]][]][] | null;
    for (const [id, fields] of reply?.[0][1] ?? []) {
      open++;
      queue.push([id.toString(), fields[1]]);
    }
    pump();
  }
  await all;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await Promise.all([reader.quit(), cmd.quit(), pub.quit()]);
  return ms;
}

/** The same through a network; its stop drains in-flight events and their XACKs, then closes. */
async function network(url: string, input: string, output: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  const net = new Network();
  net.add('in', connectors.redisStreamSource({ url, stream: input, group: 'network', consumer: 'c1', maxInFlight: IN_FLIGHT, batch: 256 }));
  net.add('out', connectors.redisStreamSink({ url, stream: output, concurrency: PUBLISHES }));
  net.link('in', 'out');
  await net.start();
  while (net.stats().out.acked < N) await new Promise((r) => setTimeout(r, 2));
  await net.stop();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** One side in this (fresh) process: prints its time in ms. */
async function child(side: Side, input: string, output: string): Promise<void> {
  const ms = side === 'plain' ? await plainClient(URL!, input, output) : await network(URL!, input, output);
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
}

function runChild(side: Side, input: string, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, 'side', side, input, output], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    p.on('error', reject);
    p.on('exit', (code) => {
      try {
        if (code !== 0) throw new Error(`${side} exited with ${code}`);
        resolve((JSON.parse(out.trim().split('\n').pop()!) as { ms: number }).ms);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

async function prepare(admin: Redis, input: string): Promise<void> {
  const body = JSON.stringify({ customer: 'c1', stake: 5, odds: 2.5, note: 'x'.repeat(40) });
  for (let i = 0; i < N; i += 1000) {
    const p = admin.pipeline();
    for (let j = i; j < Math.min(N, i + 1000); j++) p.xadd(input, '*', 'data', body);
    await p.exec();
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function main(): Promise<void> {
  if (process.argv[2] === 'side') return child(process.argv[3] as Side, process.argv[4], process.argv[5]);
  if (!URL) {
    console.log('bench/redis.ts: set TRIBUTARY_REDIS_URL (e.g. redis://127.0.0.1:6379) to run');
    return;
  }
  const admin = new Redis(URL);
  const times: Record<Side, number[]> = { plain: [], network: [] };
  console.log(
    `Redis Streams end to end: ${N} entries → (XREADGROUP, XADD, XACK after the reply) → stream; ` +
      `${ROUNDS} rounds after a warm-up, each side in its own process`,
  );
  for (let round = 0; round <= ROUNDS; round++) {
    for (const side of (round % 2 ? ['network', 'plain'] : ['plain', 'network']) as Side[]) {
      const tag = `tb:bench:${process.pid}:${side}${round}`;
      const input = `${tag}:in`;
      const output = `${tag}:out`;
      await admin.del(input, output);
      await prepare(admin, input);
      const ms = await runChild(side, input, output);
      const written = await admin.xlen(output);
      const pending = Number(((await admin.xpending(input, side)) as [number])[0]);
      await admin.del(input, output);
      if (written < N || pending !== 0) throw new Error(`${side}: ${written} of ${N} written, ${pending} still pending`);
      if (round > 0) times[side].push(ms);
    }
  }
  await admin.quit();
  const line = (label: string, xs: number[]) => {
    const m = quantile(xs, 0.5);
    return (
      `  ${label} : ${rate(N, m).padStart(18)}  (median ${m.toFixed(0)} ms, q1–q3 ${quantile(xs, 0.25).toFixed(0)}–` +
      `${quantile(xs, 0.75).toFixed(0)} ms; runs ${xs.map((t) => t.toFixed(0)).join(', ')})`
    );
  };
  console.log(line('ioredis alone    ', times.plain));
  console.log(line('tributary network', times.network));
  console.log(`  ratio network/plain throughput: ${(quantile(times.plain, 0.5) / quantile(times.network, 0.5)).toFixed(2)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
