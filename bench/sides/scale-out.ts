/**
 * Side: K `tributary run` processes on ONE JetStream durable consumer drain the same
 * pre-published backlog of N events through a CPU-bound Lua map (a hash loop of `iters` rounds
 * per event) into a discarder. Args: `K N iters [maxInFlight=256] [natsGomaxprocs=1]`.
 * Cases: scale-out-stateless, scale-out-heavy (2 processes against 1).
 *
 * A private nats-server (spare port, own store) holds the backlog, so the shared server's load
 * does not enter the figure. It runs with GOMAXPROCS=1 by default: on this 2-core machine it
 * shares the cores with the tributary processes, and with the Go default its scheduler spins
 * the second core between messages (measured: about twice the server CPU per message). The clock runs from the first delivery (process start-up and
 * module loading are not timed) until the consumer reports every message acked. Reports the
 * CPU time of the tributary processes and of nats-server over that span, and each process's
 * share, so a run where one process did all the work shows.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AckPolicy, connect, nanos } from 'nats';
import '../../lib/index';
import { cpuMsOf, peakRssOf, startPrivateNats } from './scale-out-procs';
import { intArg } from './report';

const K = intArg(0, 1);
const N = intArg(1, 100_000);
const ITERS = intArg(2, 4000);
const MAX_IN_FLIGHT = intArg(3, 256);
/** GOMAXPROCS of the private nats-server (0: the Go default, all cores). */
const NATS_PROCS = intArg(4, 1);
const root = path.resolve(__dirname, '..', '..');
const BIN = path.join(root, 'bin', 'tributary.js');

/** The network each process runs: the hash loop stands for real per-event work. */
function script(url: string): string {
  return [
    'local tb = require("tributary")',
    `tb.create_nats_source("in", { url = ${JSON.stringify(url)}, subject = "scale.in", stream = "SCALE", durable = "work", max_in_flight = ${MAX_IN_FLIGHT}, ack_wait = "60s" })`,
    'tb.create_map("work", function(e)',
    '  local h = e.i',
    `  for k = 1, ${ITERS} do h = (h * 31 + k) % 1000003 end`,
    '  return { i = e.i, customer = e.customer, h = h }',
    'end)',
    'tb.create_discarder("out")',
    'tb.link("in", "work")',
    'tb.link("work", "out")',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(path.join(root, 'dist', 'cli.js')))
    throw new Error('scale-out bench: run `npm run build` first (it runs bin/tributary.js)');
  const nats = await startPrivateNats({ gomaxprocs: NATS_PROCS });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-bench-scale-'));
  const children: ChildProcess[] = [];
  try {
    const nc = await connect({ servers: nats.url });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: 'SCALE', subjects: ['scale.in'] });
    const js = nc.jetstream();
    const pad = 'x'.repeat(100);
    for (let i = 1; i <= N; i += 1000) {
      const batch: Promise<unknown>[] = [];
      for (let j = i; j < Math.min(i + 1000, N + 1); j++)
        batch.push(js.publish('scale.in', JSON.stringify({ i: j, customer: `c${j % 500}`, pad })));
      await Promise.all(batch);
    }
    // The durable exists before the processes start (with the settings nats_source gives it),
    // so its progress can be read from the first delivery on.
    await jsm.consumers.add('SCALE', {
      durable_name: 'work',
      ack_policy: AckPolicy.Explicit,
      filter_subject: 'scale.in',
      ack_wait: nanos(60_000),
      max_ack_pending: Math.max(MAX_IN_FLIGHT, 1000),
    });
    const file = path.join(dir, 'work.lua');
    writeFileSync(file, script(nats.url));
    let failure: string | undefined;
    for (let k = 0; k < K; k++) {
      // SCALE_OUT_CPU_PROF=<dir>: each process writes a V8 CPU profile there (bench/README.md, profiling).
      const prof = process.env.SCALE_OUT_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.SCALE_OUT_CPU_PROF] : [];
      const child = spawn(process.execPath, [...prof, BIN, 'run', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on(
        'exit',
        (code, signal) => (failure ??= `tributary run #${k + 1} exited (${code ?? signal}) before the backlog was drained:\n${stderr}`),
      );
      children.push(child);
    }
    const cpu = () => ({ procs: children.map((c) => cpuMsOf(c.pid!)), nats: cpuMsOf(nats.pid) });
    const deadline = Date.now() + 600_000;
    let t0: bigint | undefined;
    let cpu0 = cpu();
    for (;;) {
      if (failure) throw new Error(failure);
      if (Date.now() > deadline) throw new Error('scale-out bench: the backlog was not drained within 10 minutes');
      const info = await jsm.consumers.info('SCALE', 'work');
      if (t0 === undefined && info.delivered.stream_seq > 0) {
        t0 = process.hrtime.bigint();
        cpu0 = cpu();
      }
      if (info.ack_floor.stream_seq >= N && info.num_ack_pending === 0 && info.num_pending === 0) break;
      await new Promise((r) => setTimeout(r, t0 === undefined ? 5 : 20));
    }
    const ms = Number(process.hrtime.bigint() - t0!) / 1e6;
    const cpu1 = cpu();
    const procCpu = cpu1.procs.map((c, k) => c - cpu0.procs[k]);
    const rss = children.map((c) => peakRssOf(c.pid!));
    await nc.close();
    process.stdout.write(
      JSON.stringify({
        ms,
        // CPU of the tributary processes over the timed span (the side's own polling is not counted).
        cpuMs: procCpu.reduce((a, b) => a + b, 0),
        procCpuMs: procCpu.map(Math.round),
        natsCpuMs: Math.round(cpu1.nats - cpu0.nats),
        rssMb: Math.max(...rss),
        eventsPerSec: Math.round(N / (ms / 1000)),
        result: { events: N },
      }) + '\n',
    );
  } finally {
    // A clean stop (drain) so profiles are written; SIGKILL what has not exited after 10 s.
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    await nats.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
