import { periodic } from '../operators/periodic';
import type { Subscription } from 'rxjs';
import { TributaryError, errorMessage } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf, type OutputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import type { NodeContext } from '../nodes/types';
import { checkClear, clearDelivery, clearOptions } from './clear';
import { batchingOptions, insertAndAck, storeOf, WINDOW_SERVICE, windowOperator } from './common';
import { quoteIdent, toUnit } from './sql';
import type { SerialQueue, WindowStore } from './store';
import type { WindowTable } from './tables';
import { checkSql } from './time-window';
import { BatchWriter } from './writer';

const countWindowOptions = {
  sql: opt.string('query over the window (:count and :now bound)').require(),
  table: opt.string('table events are inserted into and trimmed').require(),
  count: opt.integer('how many rows the window keeps', { min: 1 }).require(),
  orderColumn: opt.string("column giving row order; default the table's generated or primary column"),
  every: opt.duration('run on this timer instead of after every committed batch', { min: 1 }),
  ...batchingOptions,
  ...clearOptions,
};

/**
 * Options of {@link countWindow}: `sql`, `table`, `count`, `orderColumn`, `every`,
 * `maxBatch`, `params` and the {@link ClearOptions}.
 */
export type CountWindowOptions = InputOf<typeof countWindowOptions>;

/** What a count window's `build` receives: durations in ms, defaults filled. */
type CountWindowSettings = OutputOf<typeof countWindowOptions>;

/**
 * Pipeline keeping a window over the last `count` rows (the original's "limit based" window):
 * incoming events are inserted into `table` (batched, acked after commit); after each
 * committed batch — or every `every`, when given — the table is trimmed to its newest `count`
 * rows by `orderColumn`, the query runs and each result row becomes an output event.
 *
 * After-batch runs follow the batching: a burst committed in one transaction triggers one
 * run. Use `every` when outputs must not depend on arrival timing. When the input ends, rows
 * no run has seen (with `every`) get one final run before the window completes.
 *
 * @example
 * ```ts
 * net.add('last_100', windows.countWindow({
 *   sql: 'select avg(stake) as avg_stake from example_bets', table: 'example_bets', count: 100, orderColumn: 'create_time',
 * }));
 * ```
 */
export const countWindow = defineNode({
  name: 'count_window',
  role: 'pipeline',
  summary: 'Window over the last N rows: inserts events, trims the table, runs SQL after each batch or on a timer.',
  options: countWindowOptions,
  services: [WINDOW_SERVICE],
  positional: ['sql', 'table', 'count', 'orderColumn'],
  example: "net.add('last_100', windows.countWindow({ sql, table: 'example_bets', count: 100 }));",
  luaExample: 'tb.sliding_window_count("last_100", "last_100_out", query, "example_bets", 100, "create_time")',
  build: (o) => ({
    role: 'pipeline',
    kind: 'count_window',
    create: (ctx) => {
      const store = storeOf(ctx);
      const where = `node '${ctx.name}'`;
      const table = store.table(o.table, where);
      const order = o.orderColumn ?? table.orderColumn;
      if (!order || !table.columns.includes(order)) {
        throw new TributaryError(
          'BAD_OPTION',
          `${where}: ${order ? `table '${table.name}' has no column '${order}'` : `table '${table.name}' has no generated column; name orderColumn`} (columns: ${table.columns.join(', ')})`,
        );
      }
      checkClear(o, table, where);
      checkSql(o.sql, { ...o.params, count: 0, now: 0 }, where);
      const serial = store.serialQueue();
      return windowOperator(({ emit, begin, end }) => {
        // Rows committed that no run has queried yet: what the final run at input end is for.
        const fresh = { rows: false };
        const run = () => {
          begin();
          runCount(ctx, store, serial, table, o, order, fresh, emit).finally(end);
        };
        const writer = new BatchWriter(store, serial, table, { maxBatch: o.maxBatch, afterCommit: o.every ? undefined : run });
        let running = false;
        const timer: Subscription | undefined = o.every
          ? periodic(ctx.scheduler, o.every, () => {
              if (running) return;
              running = true;
              begin();
              runCount(ctx, store, serial, table, o, order, fresh, emit).finally(() => {
                running = false;
                end();
              });
            })
          : undefined;
        // After-batch runs begin in `afterCommit`, just after the batch's inserts end: the
        // inserts end a microtask later, so the output cannot complete in between and drop them.
        const endInsert = o.every ? end : () => queueMicrotask(end);
        return {
          next: insertAndAck(ctx, writer, { emit, begin, end: endInsert }, () => (fresh.rows = true)),
          complete: () => timer?.unsubscribe(),
          // Input ended with rows no run has seen (a finite source before the first tick): run once more.
          finish: () => {
            if (fresh.rows) run();
          },
          teardown: () => timer?.unsubscribe(),
        };
      });
    },
  }),
});

/** One run of a count window: trim to the newest `count` rows, query, emit each row. */
async function runCount(
  ctx: NodeContext,
  store: WindowStore,
  serial: SerialQueue,
  table: WindowTable,
  o: CountWindowSettings,
  order: string,
  fresh: { rows: boolean },
  emit: (e: Event) => void,
): Promise<void> {
  const where = `node '${ctx.name}'`;
  const params = { ...o.params, count: o.count, now: toUnit(ctx.scheduler.now(), 's') };
  try {
    await serial.run(async () => {
      // Inside the queue: every row committed before this point is seen by this run.
      fresh.rows = false;
      const q = (s: string) => quoteIdent(store.dialect, s);
      // The newest row that falls out of the window; everything at or before it goes. Ties in
      // the order column (a create_time in seconds) are broken by the table's own key, so rows
      // sharing the edge's time but inside the newest N stay.
      const key = table.orderColumn && table.orderColumn !== order ? table.orderColumn : undefined;
      const edge = await store.query(
        key
          ? `SELECT ${q(order)} AS edge, ${q(key)} AS edge_key FROM ${q(table.name)} ORDER BY ${q(order)} DESC, ${q(key)} DESC LIMIT 1 OFFSET ${o.count}`
          : `SELECT ${q(order)} AS edge FROM ${q(table.name)} ORDER BY ${q(order)} DESC LIMIT 1 OFFSET ${o.count}`,
      );
      if (edge.length > 0) {
        const statements = key
          ? table.deleteWhere(`(${q(order)} < ? OR (${q(order)} = ? AND ${q(key)} <= ?))`, [edge[0].edge, edge[0].edge, edge[0].edge_key])
          : table.deleteWhere(`${q(order)} <= ?`, [edge[0].edge]);
        await store.transaction(async (m) => {
          for (const s of statements) await store.execute(s.sql, s.values, m);
        });
      }
      const rows = await store.query(o.sql, params, where);
      for (const row of rows) {
        const delivery = clearDelivery(ctx, store, serial, table, o, row, params);
        emit(ctx.event(row, delivery ? { delivery } : undefined));
      }
    });
  } catch (err) {
    ctx.logger.error(`${where}: window query failed: ${errorMessage(err)}`);
    emit(ctx.fail(ctx.event({ sql: o.sql }), err));
  }
}
