// One side of bench/cases/serve-*.case.ts: N JSON POSTs (C at a time, keep-alive) into a network
// input → discarder, answered by:
//   durable     tributary serve --durable-queue (202 after the commit, synchronous=FULL: fsync)
//   durable-normal  the same with synchronous=NORMAL (no fsync per commit)
//   stateless   tributary serve (200 after the event was processed)
//   http-source a network with an http_source node, respond: acked (200 after the event was processed)
// The client runs in the same process for every side. Prints {"ms","rssMb","rps"} (+ processedMs for durable).
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { serveCommand } from '../../lib/cli/commands/serve';
import { Network } from '../../lib/index';
import { builtinPlugins } from '../../lib/plugins';
import { peakRssMb } from './report';

const [mode = 'stateless', nArg = '5000', cArg = '32'] = process.argv.slice(2);
const N = Number(nArg);
const C = Number(cArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: C });

function post(url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function load(url: URL, expected: number): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        const i = next++;
        const status = await post(url, JSON.stringify({ i, user: `u${i % 10}`, amount: i % 100 }));
        if (status !== expected) throw new Error(`request ${i}: ${status}`);
      }
    }),
  );
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main(): Promise<void> {
  const silent = { stdout: { write: () => true }, stderr: { write: (t: string) => ((stderrText += t), true) } };
  let stderrText = '';
  if (mode === 'http-source') {
    let resolveUrl: (u: string) => void = () => undefined;
    const listening = new Promise<string>((r) => (resolveUrl = r));
    const net = new Network({ plugins: builtinPlugins(), logger: { warn: () => undefined, error: () => undefined } });
    net.create('http_source', 'in', {
      port: 0,
      path: '/binge',
      respond: 'acked',
      maxInFlight: 100_000,
      onListening: (i: { url: string }) => resolveUrl(i.url),
    });
    net.create('discarder', 'out');
    net.link('in', 'out');
    await net.start();
    const ms = await load(new URL(await listening), 200);
    await net.stop();
    process.stdout.write(JSON.stringify({ ms, rssMb: peakRssMb(), rps: Math.round((N / ms) * 1000) }) + '\n');
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-bench-serve-'));
  const file = path.join(dir, 'net.yaml');
  writeFileSync(
    file,
    'nodes:\n  - { name: in, kind: stdin_source }\n  - { name: out, kind: discarder }\nedges:\n  - { from: in, to: out }\n',
  );
  const stop = new AbortController();
  const durable = mode.startsWith('durable');
  const done = serveCommand(
    [file],
    {
      port: 0,
      maintenancePort: 0,
      signal: stop.signal,
      logFormat: 'json',
      highWater: 10 * N,
      ...(durable
        ? { durableQueue: path.join(dir, 'queue.db'), synchronous: mode === 'durable-normal' ? ('NORMAL' as const) : ('FULL' as const) }
        : {}),
    },
    silent,
  );
  while (!/serving POST/.test(stderrText)) await new Promise((r) => setTimeout(r, 10));
  const url = new URL(/serving POST (\S+)/.exec(stderrText)![1]);
  const ops = /maintenance (http:\/\/[^/]+)\//.exec(stderrText)![1];
  const t0 = process.hrtime.bigint();
  const ms = await load(url, durable ? 202 : 200);
  let processedMs: number | undefined;
  if (durable) {
    for (;;) {
      const st = (await (await fetch(`${ops}/stats`)).json()) as { queue: { pending: number; inFlight: number } };
      if (st.queue.pending === 0 && st.queue.inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    processedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  stop.abort();
  await done;
  agent.destroy();
  process.stdout.write(
    JSON.stringify({ ms, rssMb: peakRssMb(), rps: Math.round((N / ms) * 1000), ...(processedMs !== undefined ? { processedMs } : {}) }) +
      '\n',
  );
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
