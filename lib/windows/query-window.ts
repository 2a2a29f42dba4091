import { forkDelivery } from '../delivery';
import { withDelivery, withPayload } from '../event';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { workerPool } from '../operators/pool';
import { isPlainObject } from '../util/values';
import { storeOf, timeUnitOption, WINDOW_SERVICE } from './common';
import { toUnit } from './sql';
import { parsedPayload } from './tables';
import { checkSql } from './time-window';

const queryWindowOptions = {
  sql: opt.string('query run for each event (payload fields, :now and params bound)').require(),
  timeUnit: timeUnitOption.describe('unit of :now'),
  params: opt.object('more named parameters'),
};

/** Options of {@link queryWindow}: `sql`, `timeUnit` (of `:now`), `params`. */
export type QueryWindowOptions = InputOf<typeof queryWindowOptions>;

/**
 * Pipeline running SQL over the window database for each incoming event (the original's
 * `query_window`) and emitting one event per result row; no rows emits nothing and acks the
 * trigger (it is not an error, unlike the original). Bound parameters: the trigger payload's
 * top-level fields (`:customer_uuid`), `:now` in `timeUnit`, and `params`. Queries run one at
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
export const queryWindow = defineNode({
  name: 'query_window',
  role: 'pipeline',
  summary: 'Runs SQL over the window database per event and emits one event per result row.',
  options: queryWindowOptions,
  services: [WINDOW_SERVICE],
  positional: ['sql'],
  example: "net.add('window_query2', windows.queryWindow({ sql: 'select * from example_bets order by create_time desc limit 1' }));",
  luaExample: 'tb.query_window("window_query2", query)',
  build: (o) => ({
    role: 'pipeline',
    kind: 'query_window',
    create: (ctx) => {
      const store = storeOf(ctx);
      const where = `node '${ctx.name}'`;
      const serial = store.serialQueue();
      return workerPool(1, (e, emit) => {
        if (e.error) return emit(e);
        let payload: unknown;
        try {
          payload = parsedPayload(e.payload);
        } catch {
          payload = undefined; // not JSON: no fields to bind
        }
        const fields = isPlainObject(payload) ? payload : {};
        const params = { ...fields, ...o.params, now: toUnit(ctx.scheduler.now(), o.timeUnit) };
        let rows: Record<string, unknown>[];
        return serial
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
