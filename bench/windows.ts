/**
 * Window benchmarks (issue 4), measured side by side in one run:
 * - ingest rate through a `window` node (events/s committed: the network has drained, every
 *   row is in the database) on an SQLite file and, when TRIBUTARY_MYSQL_URL is set, on
 *   MariaDB/MySQL, and when TRIBUTARY_PG_URL is set, on PostgreSQL (schema tb_bench) — batched (group commit, multi-row INSERT, max_batch 1000) against
 *   row-by-row (max_batch 1: one transaction per event); for a declared table (one row per
 *   event) and for the Bet entity with one selection (two rows per event, two tables);
 * - latency of the advanced example's liability query (join + group by) with 100k bets in
 *   the window.
 * Run: `npx ts-node --transpile-only bench/windows.ts` (BENCH_N sets the batched event count).
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { range, map } from 'rxjs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Network, createEvent, nodes, type SourceNode } from '../lib/index';
import { WINDOW_SERVICE, openWindowStore, windows, type WindowStore } from '../lib/windows/index';
import { entities } from '../examples/advanced/entities';
import { rate } from './harness';

const N = Number(process.env.BENCH_N ?? 100_000);
const N_SLOW = Math.max(1000, Math.floor(N / 50));
const QUERY_ROWS = 100_000;
const quiet = { warn: () => undefined, error: () => undefined };

const TABLE = { name: 'bench_events', columns: { customer: 'string', stake: 'number', at: 'integer' }, index: ['at'] } as const;

function payloads(kind: 'table' | 'bet', n: number, offset: number): SourceNode {
  return {
    role: 'source',
    kind: 'bench',
    create: (ctx) =>
      range(0, n).pipe(
        map((i) =>
          ctx.event(
            kind === 'table'
              ? { customer: `c${i % 100}`, stake: 5, at: i }
              : {
                  uuid: `b-${offset + i}`,
                  customer_uuid: `c${i % 100}`,
                  stake: 5,
                  currency: 'USD',
                  exchange_rate: 1,
                  odds: 1.23,
                  create_time: 1_700_000_000 + Math.floor(i / 20),
                  selections: [{ game_id: i % 2 ? 123456 : 654321, market_id: 'moneyline/home', odds: 1.23 }],
                },
          ),
        ),
      ),
  };
}

let seq = 0;
/** Pushes `n` events through source → window → discarder and waits for the drain. */
async function ingest(store: WindowStore, kind: 'table' | 'bet', n: number, maxBatch: number): Promise<number> {
  const net = new Network({ logger: quiet });
  net.provide(WINDOW_SERVICE, store);
  net.add('in', payloads(kind, n, (seq += n)));
  net.add('w', windows.window({ table: kind === 'table' ? TABLE.name : 'example_bets', maxBatch: maxBatch }));
  net.add('end', nodes.discarder());
  net.link('in', 'w');
  net.link('w', 'end');
  const t0 = process.hrtime.bigint();
  await net.start();
  const report = await net.done();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (report.stats.w.errors) throw new Error(`${report.stats.w.errors} rows failed`);
  return ms;
}

async function clear(store: WindowStore): Promise<void> {
  for (const t of ['example_selections', 'example_bets', TABLE.name]) await store.dataSource.query(`DELETE FROM ${t}`);
}

async function ingestSuite(label: string, url: string): Promise<void> {
  const store = await openWindowStore({ url, entities, tables: [TABLE as never] });
  try {
    await clear(store);
    await ingest(store, 'table', 2000, 1000); // warm-up
    const rows: [string, string][] = [];
    for (const kind of ['table', 'bet'] as const) {
      await clear(store);
      const batched = await ingest(store, kind, N, 1000);
      await clear(store);
      const single = await ingest(store, kind, N_SLOW, 1);
      const b = N / (batched / 1000);
      const s = N_SLOW / (single / 1000);
      rows.push([
        `${kind === 'table' ? 'declared table (1 row/event)' : 'Bet + Selection (2 rows/event)'}`,
        `batched ${rate(N, batched)} · row-by-row ${rate(N_SLOW, single)} · ×${(b / s).toFixed(1)}`,
      ]);
    }
    console.log(`\ningest on ${label}`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(32)} ${v}`);
  } finally {
    await clear(store).catch(() => undefined);
    await store.close();
  }
}

const LIABILITY = `
select customer_uuid, game_id, round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
from example_bets b join example_selections s on b.uuid = s.bet_uuid
where b.create_time >= :window_start
group by customer_uuid, game_id
having liability > 130`;

async function querySuite(label: string, url: string): Promise<void> {
  const store = await openWindowStore({ url, entities, tables: [TABLE as never] });
  try {
    await clear(store);
    const table = store.table('example_bets');
    const rows = Array.from({ length: QUERY_ROWS }, (_, i) =>
      table.prepare(
        {
          uuid: `q-${i}`,
          customer_uuid: `c${i % 100}`,
          stake: 5,
          odds: 1.23,
          create_time: 1_700_000_000 + (i % 10),
          selections: [{ game_id: i % 2 ? 123456 : 654321, odds: 1.23 }],
        },
        createEvent(null),
      ),
    );
    for (let i = 0; i < rows.length; i += 10_000) await store.transaction((m) => table.insert(m, rows.slice(i, i + 10_000)));
    const times: number[] = [];
    let out = 0;
    for (let r = 0; r < 11; r++) {
      const t0 = process.hrtime.bigint();
      out = (await store.query(LIABILITY, { window_start: 1_700_000_000 })).length;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.shift(); // warm-up
    times.sort((a, b) => a - b);
    console.log(
      `\nliability query with ${QUERY_ROWS.toLocaleString('en-US')} bets in the window on ${label}: median ${times[5].toFixed(1)} ms, max ${times[9].toFixed(1)} ms (${out} rows)`,
    );
  } finally {
    await clear(store).catch(() => undefined);
    await store.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  try {
    console.log(`window benchmarks: ${N.toLocaleString('en-US')} events batched, ${N_SLOW.toLocaleString('en-US')} row-by-row`);
    await ingestSuite('SQLite file (WAL)', `sqlite:${join(dir, 'bench.db')}`);
    await ingestSuite('SQLite in memory', 'sqlite::memory:');
    await querySuite('SQLite file', `sqlite:${join(dir, 'query.db')}`);
    const mysqlUrl = process.env.TRIBUTARY_MYSQL_URL;
    if (mysqlUrl) {
      const admin = new DataSource({ type: 'mysql', url: mysqlUrl });
      await admin.initialize();
      await admin.query('CREATE DATABASE IF NOT EXISTS tb_bench');
      await admin.destroy();
      const url = mysqlUrl.replace(/\/[^/]*$/, '/tb_bench');
      try {
        await ingestSuite('MariaDB/MySQL', url);
        await querySuite('MariaDB/MySQL', url);
      } finally {
        const drop = new DataSource({ type: 'mysql', url: mysqlUrl });
        await drop.initialize();
        await drop.query('DROP DATABASE IF EXISTS tb_bench');
        await drop.destroy();
      }
    } else {
      console.log('\n(set TRIBUTARY_MYSQL_URL to include MariaDB/MySQL)');
    }
    const pgUrl = process.env.TRIBUTARY_PG_URL;
    if (pgUrl) {
      const admin = new Client({ connectionString: pgUrl });
      await admin.connect();
      try {
        await admin.query('DROP SCHEMA IF EXISTS tb_bench CASCADE');
        await admin.query('CREATE SCHEMA tb_bench');
        const url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=tb_bench`;
        await ingestSuite('PostgreSQL', url);
        await querySuite('PostgreSQL', url);
      } finally {
        await admin.query('DROP SCHEMA IF EXISTS tb_bench CASCADE');
        await admin.end();
      }
    } else {
      console.log('\n(set TRIBUTARY_PG_URL to include PostgreSQL)');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
