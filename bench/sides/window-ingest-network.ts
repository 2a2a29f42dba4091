/**
 * Side: N events (one row each: customer, stake, at) through source → window → discarder on
 * an SQLite file (WAL), timed until the network has drained, i.e. every row is committed.
 * Args: N (default 100000). Anchor: window-ingest-sqlite3.ts.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { Network, nodes } from '../../lib/index';
import { WINDOW_SERVICE, openWindowStore, windows } from '../../lib/windows/index';
import { intArg, report, stopwatch, tempDir } from './window-side';

const N = intArg(0, 100_000);
const quiet = { warn: () => undefined, error: () => undefined };
const TABLE = { name: 'bench_events', columns: { customer: 'string', stake: 'number', at: 'integer' }, index: ['at'] } as const;
const items = Array.from({ length: N }, (_, i) => ({ customer: `c${i % 100}`, stake: 5, at: i }));

async function main(): Promise<void> {
  const store = await openWindowStore({ url: `sqlite:${join(tempDir(), 'bench.db')}`, tables: [TABLE as never] });
  const net = new Network({ logger: quiet });
  net.provide(WINDOW_SERVICE, store);
  net.add('in', nodes.from({ items }));
  net.add('w', windows.window({ table: TABLE.name }));
  net.add('end', nodes.discarder());
  net.link('in', 'w').link('w', 'end');
  const watch = stopwatch();
  await net.start();
  const result = await net.done();
  const { ms, cpuMs } = watch();
  const [{ n }] = await store.query('select count(*) as n from bench_events');
  if (n !== N || result.stats.w.errors) throw new Error(`expected ${N} rows, got ${String(n)} (${result.stats.w.errors} errors)`);
  await store.close();
  report(ms, { cpuMs, events: N, eventsPerSec: Math.round(N / (ms / 1000)) });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
