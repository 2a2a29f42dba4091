/**
 * Anchor side: the sqlite3 driver's own best insert of the same rows as
 * window-ingest-network.ts — the same table and index on an SQLite file (WAL), multi-row
 * INSERTs of 1000 rows, one transaction each, the rows built from the same payload objects.
 * Args: N (default 100000).
 */
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { intArg, report, stopwatch, tempDir } from './window-side';

const N = intArg(0, 100_000);
const BATCH = 1000;
const items = Array.from({ length: N }, (_, i) => ({ customer: `c${i % 100}`, stake: 5, at: i }));

function run(db: sqlite3.Database, sql: string, values: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, values, (err) => (err ? reject(err) : resolve())));
}

function get(db: sqlite3.Database, sql: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => db.get(sql, (err, row) => (err ? reject(err) : resolve(row as Record<string, unknown>))));
}

async function main(): Promise<void> {
  const db = new sqlite3.Database(join(tempDir(), 'bench.db'));
  await run(db, 'PRAGMA journal_mode = WAL');
  await run(
    db,
    'CREATE TABLE "bench_events" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "customer" TEXT NOT NULL, "stake" REAL NOT NULL, "at" INTEGER NOT NULL)',
  );
  await run(db, 'CREATE INDEX "bench_events_at_idx" ON "bench_events" ("at")');
  const watch = stopwatch();
  for (let i = 0; i < N; i += BATCH) {
    const chunk = items.slice(i, i + BATCH);
    const values: unknown[] = [];
    for (const r of chunk) values.push(r.customer, r.stake, r.at);
    await run(db, 'BEGIN');
    await run(db, `INSERT INTO "bench_events" ("customer", "stake", "at") VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`, values);
    await run(db, 'COMMIT');
  }
  const { ms, cpuMs } = watch();
  const { n } = await get(db, 'select count(*) as n from bench_events');
  if (n !== N) throw new Error(`expected ${N} rows, got ${String(n)}`);
  await new Promise<void>((r) => db.close(() => r()));
  report(ms, { cpuMs, events: N, eventsPerSec: Math.round(N / (ms / 1000)) });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
