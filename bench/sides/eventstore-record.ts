/**
 * Recording cost. `eventstore-record.ts <sqlite|mariadb|postgres> <ours|anchor> <per-transaction> <events>`:
 * ours records each event with `store.addEventsIn` inside the caller's transaction; the anchor
 * INSERTs the same row (type, JSON data, ts) into a plain table with the same columns, in the
 * same transactions, through the same driver. `sequenceMs` (ours, MariaDB/PostgreSQL) is the
 * consumer-side cost of giving those events their commit-ordered positions, not timed in `ms`.
 */
import { performance } from 'node:perf_hooks';
import { openBench, report, sample } from './eventstore-common';

async function main(): Promise<void> {
  const [db = 'sqlite', side = 'ours', per = '1', count = '2000'] = process.argv.slice(2);
  const perTx = Number(per);
  const n = Number(count);
  const b = await openBench(db);
  const insert = (rows: number) =>
    b.sql.text(`INSERT INTO ${b.plain} (type, data, ts) VALUES ${Array(rows).fill(`(?, ?, ${b.sql.big})`).join(', ')}`);
  const t0 = performance.now();
  for (let i = 0; i < n; i += perTx) {
    const k = Math.min(perTx, n - i);
    await b.ds.transaction(async (m) => {
      if (side === 'ours') {
        await b.store.addEventsIn(
          m,
          Array.from({ length: k }, (_, j) => ({ type: 'ORDER_PLACED', data: sample(i + j) })),
        );
      } else {
        const ts = String(Date.now());
        await m.query(insert(k), Array.from({ length: k }, (_, j) => ['ORDER_PLACED', JSON.stringify(sample(i + j)), ts]).flat());
      }
    });
  }
  const ms = performance.now() - t0;
  let sequenceMs = 0;
  if (side === 'ours') {
    const s0 = performance.now();
    while ((await b.store.sequence()) > 0);
    sequenceMs = performance.now() - s0;
  }
  await b.close();
  report(ms, {
    events: n,
    perTransaction: perTx,
    eventsPerSec: Math.round((n / ms) * 1000),
    ...(side === 'ours' ? { sequenceMs: Math.round(sequenceMs) } : {}),
  });
}

void main();
