/**
 * Issue 11: what metrics cost. The core linear case (source → where → map → summing sink over
 * 1M ints) with the network's `metrics` option on (the first call and then 1 in 256 timed, the counters and
 * gauges a scrape reads) against the same network with it off, each side in its own fresh
 * process, alternating, medians compared.
 * Run: `npx ts-node --transpile-only bench/metrics.ts [pairs]` (default 7 pairs).
 */
import { execFileSync } from 'node:child_process';
import { Network, nodes } from '../lib/index';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const quiet = { warn: () => undefined, error: () => undefined };

async function linear(data: number[], metrics: boolean): Promise<number> {
  let sum = 0;
  const net = new Network({ logger: quiet, metrics });
  net.add('numbers', nodes.from({ items: data }));
  net.add('even', nodes.where({ fn: (n: number) => n % 2 === 0 }));
  net.add('triple', nodes.map({ fn: (n: number) => n * 3 }));
  net.add('sum', nodes.sink({ fn: (n: number) => void (sum += n) }));
  net.link('numbers', 'even').link('even', 'triple').link('triple', 'sum');
  await net.start();
  await net.done();
  if (metrics && net.snapshot().nodes.every((n) => n.timing.count === 0)) throw new Error('metrics on but nothing was timed');
  return sum;
}

/** One side in this process: a warm-up run, then the median of 5 timed runs, in ms. */
async function side(metrics: boolean): Promise<number> {
  const data = Array.from({ length: N }, (_, i) => i);
  await linear(data, metrics);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    await linear(data, metrics);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[2];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg === 'on' || arg === 'off') {
    process.stdout.write(String(await side(arg === 'on')));
    return;
  }
  const pairs = Number(arg ?? 7);
  const run = (which: 'on' | 'off') =>
    Number(execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, which], { encoding: 'utf8' }));
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < pairs; i++) {
    // Alternate which side goes first, so drift on the machine hits both alike.
    if (i % 2 === 0) {
      off.push(run('off'));
      on.push(run('on'));
    } else {
      on.push(run('on'));
      off.push(run('off'));
    }
  }
  const ratio = median(on) / median(off);
  console.log(
    `linear chain, ${N} events, ${pairs} process pairs: metrics off ${median(off).toFixed(1)} ms, on ${median(on).toFixed(1)} ms`,
  );
  console.log(`metrics on / off = ${ratio.toFixed(3)} (the issue's bound: at most 1.10)`);
}

void main();
