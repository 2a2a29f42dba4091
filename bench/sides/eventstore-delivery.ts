/**
 * Reliable delivery. `eventstore-delivery.ts <sqlite|mariadb|postgres> <ours|anchor> <events>`:
 * ours consumes pre-recorded events with `reliable$` (one batch of 1000 in flight, pointer
 * recorded after acks); the anchor is a hand-written loop over a plain table with the same
 * rows: SELECT the next 1000 by id, decode, then UPDATE a pointer row (the same guarantee,
 * without commit-order safety). Ours also reports commit-to-consumer latency (p50/p99, ms) of
 * 500 events committed one by one, 2 ms apart, by a writer in the same process.
 */
import { performance } from 'node:perf_hooks';
import { reliable$ } from '../../lib/eventstore';
import { openBench, report, sample } from './eventstore-common';

async function main(): Promise<void> {
  const [db = 'sqlite', side = 'ours', count = '20000'] = process.argv.slice(2);
  const n = Number(count);
  const b = await openBench(db);
  for (let i = 0; i < n; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ type: 'ORDER_PLACED', data: sample(i + j) }));
    if (side === 'ours') await b.store.addEvents(rows);
    else {
      const ts = String(Date.now());
      await b.ds.query(
        b.sql.text(`INSERT INTO ${b.plain} (type, data, ts) VALUES ${rows.map(() => `(?, ?, ${b.sql.big})`).join(', ')}`),
        rows.flatMap((r) => [r.type, JSON.stringify(r.data), ts]),
      );
    }
  }
  let extra: Record<string, unknown> = {};
  let ms: number;
  if (side === 'ours') {
    await b.store.registerConsumer('bench');
    if (db !== 'sqlite') while ((await b.store.sequence()) > 0); // positions as a steady-state consumer finds them
    let got = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const sub = reliable$(b.store, 'bench', { limit: 1000, pollInterval: 50 }).subscribe((r) => {
        r.ack();
        if (++got === n) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    ms = performance.now() - t0;
    extra = await latency(b);
  } else {
    const t0 = performance.now();
    let last = '0';
    let got = 0;
    while (got < n) {
      const rows: Record<string, unknown>[] = await b.ds.query(
        b.sql.text(
          `SELECT ${b.sql.asText('id')} AS rid, type, ${b.sql.asText('data')} AS data, ${b.sql.asText('ts')} AS ts FROM ${b.plain} WHERE id > ${b.sql.big} ORDER BY id LIMIT 1000`,
        ),
        [last],
      );
      for (const r of rows) {
        JSON.parse(String(r.data));
        got++;
      }
      if (rows.length) {
        last = String(rows[rows.length - 1].rid);
        await b.ds.query(b.sql.text(`UPDATE ${b.prefix}pointer SET last_id = ${b.sql.big} WHERE id = 1`), [last]);
      }
    }
    ms = performance.now() - t0;
  }
  await b.close();
  report(ms, { events: n, eventsPerSec: Math.round((n / ms) * 1000), ...extra });
}

async function latency(b: Awaited<ReturnType<typeof openBench>>): Promise<Record<string, number>> {
  const m = 500;
  const lags: number[] = [];
  const sent = new Map<number, number>();
  await b.store.registerConsumer('latency');
  await b.store.ack('latency', await b.store.lastPosition());
  const done = new Promise<void>((resolve) => {
    const sub = reliable$(b.store, 'latency', { limit: 1000, pollInterval: 50 }).subscribe((r) => {
      const k = (r.event.data as { k: number }).k;
      lags.push(performance.now() - sent.get(k)!);
      r.ack();
      if (lags.length === m) {
        sub.unsubscribe();
        resolve();
      }
    });
  });
  for (let k = 0; k < m; k++) {
    await b.store.addEvent('PING', { k });
    sent.set(k, performance.now());
    await new Promise((r) => setTimeout(r, 2));
  }
  await done;
  lags.sort((x, y) => x - y);
  const q = (p: number) => Math.round(lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] * 100) / 100;
  return { latencyP50Ms: q(0.5), latencyP99Ms: q(0.99) };
}

void main();
