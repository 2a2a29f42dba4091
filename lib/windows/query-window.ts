import { forkDelivery } from '../delivery';
import { withDelivery, withPayload } from '../event';
import { defineNode } from '../nodes/registry';
import { workerPool } from '../operators/pool';
import { storeOf } from './common';
import { toUnit, type TimeUnit } from './sql';
import { decodePayload } from './tables';
import { checkSql } from './time-window';

/** Options of {@link queryWindow}. */
export interface QueryWindowOptions {
  /** The query run for each incoming event. */
  sql: string;
  /** Unit of the bound `:now`: `"s"` (default) or `"ms"`. */
  time_unit?: TimeUnit;
  /** More named parameters. */
  params?: Record<string, unknown>;
}

/**
 * Pipeline running SQL over the window database for each incoming event (the original's
 * `query_window`) and emitting one event per result row; no rows emits nothing and acks the
 * trigger (it is not an error, unlike the original). Bound parameters: the trigger payload's
 * top-level fields (`:customer_uuid`), `:now` in `time_unit`, and `params`. Queries run one at
 * a time, in arrival order, after the inserts queued before them on SQLite. The rows share the
 * trigger's ack handle: it settles once every row has.
 *
 * @example
 * ```ts
 * net.add('window_query2', windows.queryWindow({
 *   sql: 'select stake, customer_uuid from example_bets order by create_time desc limit 1',
 * }));
 * ```
 */
export const queryWindow = defineNode<QueryWindowOptions, { sql: string; time_unit: TimeUnit; params?: Record<string, unknown> }>({
  name: 'query_window',
  role: 'pipeline',
  summary: 'Runs SQL over the window database per event and emits one event per result row.',
  options: {
    sql: { type: 'string', required: true, description: 'query run for each event (payload fields, :now and params bound)' },
    time_unit: { type: 'string', enum: ['s', 'ms'], default: 's', description: 'unit of :now' },
    params: { type: 'object', description: 'more named parameters' },
  },
  positional: ['sql'],
  example: "net.add('window_query2', windows.queryWindow({ sql: 'select * from example_bets order by create_time desc limit 1' }));",
  luaExample: 'tb.query_window("window_query2", query)',
  build: (o) => ({
    role: 'pipeline',
    kind: 'query_window',
    create: (ctx) => {
      const store = storeOf(ctx);
      const where = `node '${ctx.name}'`;
      const lane = store.lane();
      return workerPool(1, (e, emit) => {
        if (e.error) return emit(e);
        let payload: unknown;
        try {
          payload = decodePayload(e.payload);
        } catch {
          payload = undefined; // not JSON: no fields to bind
        }
        const fields = payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {};
        const params = { ...fields, ...o.params, now: toUnit(ctx.scheduler.now(), o.time_unit) };
        let rows: Record<string, unknown>[];
        return lane
          .run(() => {
            checkSql(o.sql, params, where);
            return store.query(o.sql, params, where);
          })
          .then(
            (r) => {
              rows = r;
              if (rows.length === 0) {
                ctx.drop(e);
                return;
              }
              const parts = e.delivery ? forkDelivery(e.delivery, rows.length) : undefined;
              rows.forEach((row, i) => emit(withDelivery(withPayload(e, row), parts?.[i])));
            },
            (err: unknown) => emit(ctx.fail(e, err)),
          );
      });
    },
  }),
});
