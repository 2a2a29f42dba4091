/**
 * Side: the advanced example's liability (per customer and game, over a bet's selections,
 * above 130) computed every second over a 10 s window, under virtual time on a real database.
 * `RATE` bets arrive each second (one burst at k s + 500 ms, create_time k), so after 10 s the
 * window holds 10 × RATE bets (100,000 by default). The timed work is the tick frames only —
 * the run at k s with everything before it committed: query, emitting the rows, expiring the
 * oldest second — for the 10 ticks from 11 s to 20 s.
 *
 * On SQLite the tables are ANALYZEd (untimed) once the window is full, so the free SQL runs with
 * its best plan.
 *
 * Args: KIND (`free`: time_window with the free SQL, the anchor; `pane`: aggregate_window),
 * DRIVER (`sqlite`, file with WAL; `mariadb`, needs TRIBUTARY_MYSQL_URL), RATE (default 10000).
 * Prints `{ ms, rssMb, tickMedianMs, tickMaxMs, ticks, rowsInWindow, outputs }`.
 */
import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Observable } from 'rxjs';
import { Network, nodes, type Event, type SourceNode } from '../../lib/index';
import { VirtualClock, VirtualTime } from '../../lib/testing/index';
import { WINDOW_SERVICE, openWindowStore, windows, type WindowStore } from '../../lib/windows/index';
import { entities } from '../../examples/advanced/entities';
import { intArg, report, stopwatch, tempDir } from './window-side';

const KIND = process.argv[2] ?? 'free';
const DRIVER = process.argv[3] ?? 'sqlite';
const RATE = intArg(2, 10_000);
const SECONDS = 20;

/** The free SQL of examples/advanced/network.lua. */
export const LIABILITY_SQL = `
select customer_uuid, game_id, round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
from example_bets b join example_selections s on b.uuid = s.bet_uuid
where b.create_time >= :window_start
group by customer_uuid, game_id
having liability > 130`;

function bets(): SourceNode {
  return {
    role: 'source',
    kind: 'bets',
    create: (ctx) =>
      new Observable<Event>((subscriber) => {
        const subs = Array.from({ length: SECONDS }, (_, k) =>
          ctx.scheduler.schedule(
            () => {
              for (let i = 0; i < RATE; i++) {
                const n = k * RATE + i;
                subscriber.next(
                  ctx.event({
                    uuid: `b-${n}`,
                    customer_uuid: `c${n % 100}`,
                    stake: n % 20 === 0 ? 100 : 5,
                    currency: 'USD',
                    exchange_rate: 1,
                    odds: 1.23,
                    create_time: k,
                    selections: [{ game_id: n % 2 ? 123456 : 654321, market_id: 'moneyline/home', odds: 1.23 }],
                  }),
                );
              }
            },
            k * 1000 + 500,
          ),
        );
        return () => subs.forEach((s) => s.unsubscribe());
      }),
  };
}

async function openStore(): Promise<{ store: WindowStore; drop: () => Promise<void> }> {
  if (DRIVER === 'sqlite') {
    const store = await openWindowStore({ url: `sqlite:${join(tempDir(), 'tick.db')}`, entities });
    return { store, drop: async () => undefined };
  }
  const base = process.env.TRIBUTARY_MYSQL_URL;
  if (!base) throw new Error('set TRIBUTARY_MYSQL_URL for the mariadb driver');
  const db = `tb_bench_tick_${process.pid}`;
  const admin = new DataSource({ type: 'mysql', url: base });
  await admin.initialize();
  await admin.query(`CREATE DATABASE \`${db}\``);
  const store = await openWindowStore({ url: base.replace(/\/[^/]*$/, `/${db}`), entities });
  return {
    store,
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await admin.destroy();
    },
  };
}

function windowNode() {
  if (KIND === 'free') {
    return windows.timeWindow({ sql: LIABILITY_SQL, table: 'example_bets', duration: '10s', every: '1s', timeColumn: 'create_time' });
  }
  return windows.aggregateWindow({
    each: 'selections',
    groupBy: ['customer_uuid', 'item.game_id'],
    measures: { liability: 'round(sum(stake * exchange_rate * (odds - 1)), 2)' },
    having: 'liability > 130',
    duration: '10s',
    every: '1s',
    timeField: 'create_time',
  });
}

async function main(): Promise<void> {
  if (DRIVER === 'mariadb' && !process.env.TRIBUTARY_MYSQL_URL) {
    console.log('skipped: set TRIBUTARY_MYSQL_URL (e.g. mysql://root@127.0.0.1:3306/test) for the MariaDB tick case');
    report(0, { skipped: true, kind: KIND, driver: DRIVER });
    return;
  }
  const { store, drop } = await openStore();
  try {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler, logger: { warn: () => undefined, error: () => undefined } });
    net.provide(WINDOW_SERVICE, store);
    let outputs = 0;
    net.add('bets', bets());
    net.add('liability', windowNode());
    net.add('out', nodes.sink({ fn: () => void outputs++ }));
    net.link('bets', 'liability').link('liability', 'out');
    const clock = new VirtualClock(t.scheduler, store);
    await clock.start(net);
    const ticks: number[] = [];
    let cpuMs = 0;
    for (let k = 1; k <= SECONDS; k++) {
      await clock.advanceTo(k * 1000 - 1); // the burst of k-1 s + 500 ms, committed
      // Statistics for SQLite's planner once the window is full, so the free SQL gets its best
      // plan (the time column's index, not a scan in customer order): a fair anchor.
      if (k === 11 && DRIVER === 'sqlite') await store.exclusive(() => store.dataSource.query('ANALYZE'));
      const watch = stopwatch();
      await clock.advanceTo(k * 1000); // the tick alone
      const took = watch();
      if (k > 10) {
        ticks.push(took.ms);
        cpuMs += took.cpuMs;
      }
    }
    await clock.stop(net);
    const sorted = [...ticks].sort((a, b) => a - b);
    report(
      ticks.reduce((a, b) => a + b, 0),
      {
        cpuMs,
        kind: KIND,
        driver: DRIVER,
        rowsInWindow: RATE * 10,
        ticks: ticks.length,
        tickMedianMs: sorted[Math.floor(sorted.length / 2)],
        tickMaxMs: sorted[sorted.length - 1],
        outputs,
      },
    );
  } finally {
    await store.close();
    await drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
