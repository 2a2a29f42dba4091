/**
 * Core benchmarks (issue 2): a network against the same logic as one hand-written RxJS pipe,
 * run side by side. Run: `npm run bench` (or `node --expose-gc -r ts-node/register/transpile-only bench/core.ts`).
 */
import 'reflect-metadata';
import { filter, from, map, reduce, lastValueFrom } from 'rxjs';
import { Network, nodes } from '../lib/index';
import { compare, rate } from './harness';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const quiet = { warn: () => undefined, error: () => undefined };

async function linear(data: number[]): Promise<number> {
  let sum = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', nodes.from({ items: data }));
  net.add('even', nodes.where({ fn: (n: number) => n % 2 === 0 }));
  net.add('triple', nodes.map({ fn: (n: number) => n * 3 }));
  net.add(
    'sum',
    nodes.sink({
      fn: (n: number) => {
        sum += n;
      },
    }),
  );
  net.link('numbers', 'even').link('even', 'triple').link('triple', 'sum');
  await net.start();
  await net.done();
  return sum;
}

function plainPipe(data: number[]): Promise<number> {
  return lastValueFrom(
    from(data).pipe(
      filter((n) => n % 2 === 0),
      map((n) => n * 3),
      reduce((a, n) => a + n, 0),
    ),
  );
}

async function fanOutIn(data: number[]): Promise<number> {
  let count = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', nodes.from({ items: data }));
  net.add('a', nodes.map({ fn: (n: number) => n + 1 }));
  net.add('b', nodes.where({ fn: (n: number) => n % 3 === 0 }));
  net.add('c', nodes.forwarder());
  net.add(
    'count',
    nodes.sink({
      fn: () => {
        count++;
      },
    }),
  );
  net.fanout('numbers', 'a', 'b', 'c');
  net.fanin('count', 'a', 'b', 'c');
  await net.start();
  await net.done();
  return count;
}

function plainFanOutIn(data: number[]): Promise<number> {
  const src = from(data);
  let count = 0;
  return new Promise((resolve) => {
    // The hand-written equivalent: share the source, merge three branches.
    import('rxjs').then(({ merge, share }) => {
      const shared = src.pipe(share());
      merge(shared.pipe(map((n) => n + 1)), shared.pipe(filter((n) => n % 3 === 0)), shared).subscribe({
        next: () => count++,
        complete: () => resolve(count),
      });
    });
  });
}

async function asyncNode(n: number, concurrency: number): Promise<number> {
  let count = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', nodes.from({ items: Array.from({ length: n }, (_, i) => i) }));
  net.add('lookup', nodes.map({ fn: (x: number) => Promise.resolve(x + 1), concurrency }));
  net.add(
    'count',
    nodes.sink({
      fn: () => {
        count++;
      },
    }),
  );
  net.link('numbers', 'lookup').link('lookup', 'count');
  await net.start();
  await net.done();
  if (count !== n) throw new Error(`lost events: ${count} of ${n}`);
  return count;
}

async function main(): Promise<void> {
  const data = Array.from({ length: N }, (_, i) => i);
  if ((await linear(data.slice(0, 1000))) !== (await plainPipe(data.slice(0, 1000)))) throw new Error('linear results differ');

  console.log(`# Tributary core benchmarks (N = ${N.toLocaleString('en-US')}, node ${process.version})\n`);
  const [pipe, network] = await compare([
    { name: 'plain RxJS pipe', run: () => plainPipe(data) },
    { name: '4-node network', run: () => linear(data) },
  ]);
  console.log(`linear source → where → map → sink over ${N.toLocaleString('en-US')} integers`);
  console.log(`  plain pipe   ${pipe.medianMs.toFixed(1)} ms  (${rate(N, pipe.medianMs)})`);
  console.log(`  network      ${network.medianMs.toFixed(1)} ms  (${rate(N, network.medianMs)})`);
  console.log(`  ratio network/pipe: ${(network.medianMs / pipe.medianMs).toFixed(2)}×  (target ≤ 2×)\n`);

  const [pf, nf] = await compare([
    { name: 'plain share/merge', run: () => plainFanOutIn(data) },
    { name: 'fan-out/fan-in network', run: () => fanOutIn(data) },
  ]);
  console.log(`fan-out to 3 branches, fan-in to one sink`);
  console.log(
    `  plain share/merge ${pf.medianMs.toFixed(1)} ms, network ${nf.medianMs.toFixed(1)} ms, ratio ${(nf.medianMs / pf.medianMs).toFixed(2)}×\n`,
  );

  console.log('async node (fn returns a resolved Promise)');
  for (const concurrency of [1, 8]) {
    const [small, large] = await compare(
      [
        { name: '100k', run: () => asyncNode(100_000, concurrency) },
        { name: '1M', run: () => asyncNode(1_000_000, concurrency) },
      ],
      3,
    );
    console.log(
      `  concurrency ${concurrency}: 100k ${small.medianMs.toFixed(0)} ms (${rate(1e5, small.medianMs)}), ` +
        `1M ${large.medianMs.toFixed(0)} ms (${rate(1e6, large.medianMs)}), 1M/100k = ${(large.medianMs / small.medianMs).toFixed(1)}× (linear: ≤ 12×)`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
