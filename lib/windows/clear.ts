import { createDelivery, type Delivery } from '../delivery';
import { TributaryError, errorMessage } from '../errors';
import { opt, type InputOf } from '../nodes/options';
import type { NodeContext } from '../nodes/types';
import { quoteIdent, type SqlParams } from './sql';
import type { SerialQueue, WindowStore } from './store';
import type { WindowTable } from './tables';

/** The clear-after-ack options, shared by the sliding windows. */
export const clearOptions = {
  clearColumns: opt.array<string>('on ack of an output event, delete window rows with these column values'),
  clearSql: opt.string('on ack of an output event, run this DELETE (row fields as :params); instead of clearColumns'),
};

/**
 * Clear-after-ack options of the sliding windows: when an output event is acked downstream
 * (the alert was sent), delete the rows that produced it — by `clearColumns`, or with your
 * own DELETE in `clearSql` (for joins).
 */
export type ClearOptions = InputOf<typeof clearOptions>;

/**
 * Checks clear options against the table once, when the node is built.
 *
 * @example
 * ```ts
 * checkClear({ clearColumns: ['customer_uuid'] }, store.table('example_bets'), "node 'w'");
 * ```
 */
export function checkClear(opts: ClearOptions, table: WindowTable, where: string): void {
  if (opts.clearColumns && opts.clearSql) {
    throw new TributaryError('BAD_OPTION', `${where}: give clearColumns or clearSql, not both`);
  }
  for (const c of opts.clearColumns ?? []) {
    if (!table.columns.includes(c)) {
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: clear column '${c}' is not a column of table '${table.name}' (columns: ${table.columns.join(', ')})`,
      );
    }
  }
}

/**
 * The ack handle of a window's output event when clear-after-ack is on: acking it deletes the
 * rows that produced the output, so the condition has to build up again before it fires
 * again. A nack deletes nothing.
 *
 * @example
 * ```ts
 * const delivery = clearDelivery(ctx, store, serial, table, o, row, params, { column: 'create_time', value: params.now });
 * emit(ctx.event(row, delivery ? { delivery } : undefined));
 * ```
 */
export function clearDelivery(
  ctx: NodeContext,
  store: WindowStore,
  serial: SerialQueue,
  table: WindowTable,
  opts: ClearOptions,
  row: Record<string, unknown>,
  params: SqlParams,
  upTo?: { column: string; value: number },
): Delivery | undefined {
  if (!opts.clearColumns && !opts.clearSql) return undefined;
  const where = `node '${ctx.name}'`;
  return createDelivery((s) => {
    if (!s.acked) return;
    void serial
      .run(async () => {
        if (opts.clearSql) {
          await store.query(opts.clearSql, { ...params, ...row }, `${where} clearSql`);
          return;
        }
        const cols = opts.clearColumns!;
        const missing = cols.filter((c) => !(c in row));
        if (missing.length)
          throw new Error(`output row has no '${missing.join("', '")}' to clear by (select the clear columns in the query)`);
        const conds = cols.map((c) => `${quoteIdent(store.dialect, c)} = ?`);
        const values: unknown[] = cols.map((c) => row[c]);
        if (upTo) {
          conds.push(`${quoteIdent(store.dialect, upTo.column)} <= ?`);
          values.push(upTo.value);
        }
        const statements = table.deleteWhere(conds.join(' AND '), values);
        await store.transaction(async (m) => {
          for (const st of statements) await store.execute(st.sql, st.values, m);
        });
      })
      .catch((err) => ctx.logger.error(`${where}: clear after ack failed: ${errorMessage(err)}`));
  });
}
