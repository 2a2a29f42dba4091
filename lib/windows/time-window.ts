import { periodic } from '../operators/periodic';
import type { Subscription } from 'rxjs';
import { TributaryError, errorMessage } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf, type OutputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import type { NodeContext } from '../nodes/types';
import { checkClear, clearDelivery, clearOptions } from './clear';
import { batchingOptions, insertAndAck, storeOf, timeUnitOption, WINDOW_SERVICE, windowOperator } from './common';
import { bindNamed, quoteIdent, toUnit } from './sql';
import type { SerialQueue, WindowStore } from './store';
import type { WindowTable } from './tables';
import { BatchWriter } from './writer';

const timeWindowOptions = {
  sql: opt.string('query over the window (:now, :window_start, :duration bound per run)').require(),
  table: opt.string('table events are inserted into and expired rows deleted from').require(),
  duration: opt.duration('how far back the window reaches', { min: 1 }).require(),
  timeColumn: opt.string("column holding each row's time").require(),
  every: opt.duration('how often the query runs; default duration', { min: 1 }),
  timeUnit: timeUnitOption,
  ...batchingOptions,
  ...clearOptions,
};

/**
 * Options of {@link timeWindow}: `sql`, `table`, `duration`, `timeColumn` (Unix seconds, or
 * ms with `timeUnit: 'ms'`), `every` (default `duration`), `maxBatch`, `params` and the
 * {@link ClearOptions}.
 */
export type TimeWindowOptions = InputOf<typeof timeWindowOptions>;

/** What a time window's `build` receives: durations in ms, defaults filled. */
type TimeWindowSettings = OutputOf<typeof timeWindowOptions>;

/**
 * Pipeline keeping a sliding window over the last `duration` (the original's
 * `sliding_window_time`): incoming events are inserted into `table` (batched, each acked once
 * its row is committed; the time column is filled from the event time when missing); every
 * `every` (default `duration`) on the network's scheduler the query runs, each result row
 * becomes an output event, and rows older than the window are deleted — with the cut-off
 * computed anew at every run (the Go original computed it once, so its table grew forever).
 * When the input ends (a finite source, a replay, a drain), rows no run has seen get one final
 * run before the window completes; its `:now` is the newest time column value if that is
 * later than the scheduler's time.
 *
 * The query sees `:now`, `:window_start` (= now − duration) and `:duration` in the time
 * column's unit, so one statement works on SQLite, MySQL and PostgreSQL:
 * `… where b.create_time >= :window_start …`. MySQL-only SQL such as
 * `FROM_UNIXTIME(b.create_time) >= now() - interval 10 second` also works on MariaDB (it reads
 * the database clock, so it does not follow a virtual scheduler).
 *
 * @example
 * ```ts
 * net.add('customer_liability', windows.timeWindow({
 *   sql: 'select customer_uuid, sum(stake) as total from example_bets where create_time >= :window_start group by customer_uuid',
 *   table: 'example_bets', duration: '10s', timeColumn: 'create_time',
 * }));
 * ```
 */
export const timeWindow = defineNode({
  name: 'time_window',
  role: 'pipeline',
  summary: 'Sliding window over the last duration: inserts events, runs SQL on a timer, emits one event per row, deletes expired rows.',
  options: timeWindowOptions,
  services: [WINDOW_SERVICE],
  positional: ['sql', 'table', 'duration', 'timeColumn'],
  example: "net.add('customer_liability', windows.timeWindow({ sql, table: 'example_bets', duration: '10s', timeColumn: 'create_time' }));",
  luaExample: 'tb.sliding_window_time("customer_liability", "window_out", query, "example_bets", "10s", "create_time")',
  build: (o) => ({
    role: 'pipeline',
    kind: 'time_window',
    create: (ctx) => {
      const store = storeOf(ctx);
      const where = `node '${ctx.name}'`;
      const table = store.table(o.table, where);
      if (!table.columns.includes(o.timeColumn)) {
        throw new TributaryError(
          'BAD_OPTION',
          `${where}: table '${table.name}' has no time column '${o.timeColumn}' (columns: ${table.columns.join(', ')})`,
        );
      }
      checkClear(o, table, where);
      checkSql(o.sql, { ...o.params, now: 0, window_start: 0, duration: 0 }, where);
      const serial = store.serialQueue();
      const every = o.every ?? o.duration;
      return windowOperator(({ emit, begin, end }) => {
        const writer = new BatchWriter(store, serial, table, {
          maxBatch: o.maxBatch,
          time: { column: o.timeColumn, unit: o.timeUnit },
        });
        let running = false;
        // Rows committed that no run has queried yet: what the final run at input end is for.
        const fresh = { rows: false };
        // For the metrics (tributary_node_gauge): rows this node stored, runs, the last run's time.
        const seen: WindowCounts = { rows: 0, expired: 0, expiries: 0, ticks: 0, skipped: 0, lastTick: 0 };
        ctx.probe.gauge('rows_inserted', 'rows this window stored', () => seen.rows);
        ctx.probe.gauge('rows_expired', 'rows this window deleted as older than the window', () => seen.expired);
        ctx.probe.gauge('rows', 'rows this window holds: stored minus expired (rows others write to the table not counted)', () =>
          Math.max(0, seen.rows - seen.expired),
        );
        ctx.probe.gauge('ticks', 'query runs of this window', () => seen.ticks);
        ctx.probe.gauge(
          'expiries',
          'runs that deleted expired rows (a run skips the delete when no row is older than the window)',
          () => seen.expiries,
        );
        ctx.probe.gauge('ticks_skipped', 'ticks skipped because the previous run was still going', () => seen.skipped);
        ctx.probe.gauge('tick_seconds', 'how long the last run took (query, emitting rows, expiry)', () => seen.lastTick);
        const tick = () => {
          // A query still running (slow database) skips this tick instead of piling up.
          if (running) {
            seen.skipped++;
            return;
          }
          running = true;
          begin();
          const started = performance.now();
          runWindow(ctx, store, serial, table, o, fresh, emit, seen).finally(() => {
            seen.ticks++;
            seen.lastTick = (performance.now() - started) / 1000;
            running = false;
            end();
          });
        };
        const timer: Subscription = periodic(ctx.scheduler, every, tick);
        return {
          next: insertAndAck(ctx, writer, { emit, begin, end }, () => {
            fresh.rows = true;
            seen.rows++;
          }),
          complete: () => timer.unsubscribe(),
          // Input ended with rows no run has seen (a finite source, a replay): run once more.
          finish: () => {
            if (!fresh.rows) return;
            begin();
            const started = performance.now();
            runWindow(ctx, store, serial, table, o, fresh, emit, seen, true).finally(() => {
              seen.ticks++;
              seen.lastTick = (performance.now() - started) / 1000;
              end();
            });
          },
          teardown: () => timer.unsubscribe(),
        };
      });
    },
  }),
});

/** What a time window counts for the metrics. */
interface WindowCounts {
  rows: number;
  expired: number;
  /** Runs that deleted expired rows (the others found none that could have expired). */
  expiries: number;
  ticks: number;
  skipped: number;
  lastTick: number;
}

/**
 * Checks the SQL's named parameters can all be bound, so a typo fails at start, not at the first tick.
 *
 * @example
 * ```ts
 * checkSql('select * from bets where create_time >= :since', { now: 0 }, "node 'w'");
 * // throws "node 'w': SQL parameter ':since' has no value (bound here: :now)"
 * ```
 */
export function checkSql(sql: string, params: Record<string, unknown>, where: string): void {
  bindNamed(sql, params, where);
}

/**
 * One run of a time window: query, emit each row, delete rows older than this run's cut-off.
 * `:now` is the scheduler's time; for the `final` run at input end it is the newest row's
 * time when that is later (a replay whose rows are ahead of the clock).
 */
async function runWindow(
  ctx: NodeContext,
  store: WindowStore,
  serial: SerialQueue,
  table: WindowTable,
  o: TimeWindowSettings,
  fresh: { rows: boolean },
  emit: (e: Event) => void,
  seen: WindowCounts,
  final = false,
): Promise<void> {
  const where = `node '${ctx.name}'`;
  let now = ctx.scheduler.now();
  try {
    await serial.run(async () => {
      // Inside the queue: every row committed before this point is seen by this run.
      fresh.rows = false;
      if (final) now = Math.max(now, await newestTime(store, table, o));
      let failed: { err: unknown } | undefined;
      const params = bindings(o, now);
      try {
        const rows = await store.query(o.sql, params, where);
        for (const row of rows) {
          const delivery = clearDelivery(ctx, store, serial, table, o, row, params, { column: o.timeColumn, value: params.now });
          emit(ctx.event(row, delivery ? { delivery } : undefined));
        }
      } catch (err) {
        failed = { err };
      }
      // Expired rows go whether or not the query worked: a failing query must not make the
      // table grow forever (the original's bug, by another road). Only when some row can have
      // expired: the oldest time, read through the time column's index, is before the cut-off
      // (the delete of a join's child rows costs a scan or a lookup per parent even when none go).
      if ((await oldestTime(store, table, o)) < params.window_start) {
        const statements = table.deleteBefore(o.timeColumn, params.window_start);
        await store.transaction(async (m) => {
          // The first statement deletes the window's own rows (the others, child tables).
          for (let i = 0; i < statements.length; i++) {
            const gone = await store.executeCounted(statements[i].sql, statements[i].values, m);
            if (i === 0) seen.expired += gone;
          }
        });
        seen.expiries++;
      }
      if (failed) throw failed.err;
    });
  } catch (err) {
    // A failed run is an error event (the stream lives on); the next tick tries again.
    ctx.logger.error(`${where}: window query failed: ${errorMessage(err)}`);
    emit(ctx.fail(ctx.event({ sql: o.sql, now: toUnit(now, o.timeUnit) }), err));
  }
}

/** The parameters of a run at `now` (ms), in the time column's unit; the cut-off is computed anew at every run. */
function bindings(o: TimeWindowSettings, now: number) {
  return {
    ...o.params,
    now: toUnit(now, o.timeUnit),
    window_start: toUnit(now - o.duration, o.timeUnit),
    duration: toUnit(o.duration, o.timeUnit),
  };
}

/** The oldest time column value in the table, in its unit; Infinity for an empty table (NaN, which compares false, never skips). */
async function oldestTime(store: WindowStore, table: WindowTable, o: TimeWindowSettings): Promise<number> {
  const q = (s: string) => quoteIdent(store.dialect, s);
  const rows = await store.query(`SELECT MIN(${q(o.timeColumn)}) AS oldest FROM ${q(table.name)}`);
  const oldest = rows[0]?.oldest;
  if (oldest === null || oldest === undefined) return Infinity;
  const n = Number(oldest);
  return Number.isNaN(n) ? -Infinity : n;
}

/** The newest time column value in the table, in ms; -Infinity for an empty table. */
async function newestTime(store: WindowStore, table: WindowTable, o: TimeWindowSettings): Promise<number> {
  const q = (s: string) => quoteIdent(store.dialect, s);
  const rows = await store.query(`SELECT MAX(${q(o.timeColumn)}) AS newest FROM ${q(table.name)}`);
  const newest = Number(rows[0]?.newest ?? NaN);
  if (!Number.isFinite(newest)) return -Infinity;
  return o.timeUnit === 's' ? newest * 1000 : newest;
}
