import { createDelivery, type Delivery } from '../delivery';
import { TributaryError, errorMessage } from '../errors';
import type { NodeContext } from '../nodes/types';
import { quoteIdent, type SqlParams } from './sql';
import type { Lane, WindowStore } from './store';
import type { WindowTable } from './tables';

/** Clear-after-ack options shared by the sliding windows. */
export interface ClearOptions {
  /**
   * When an output event is acked downstream (the alert was sent), delete the window rows
   * whose values in these columns equal the output row's (only rows up to the query's time).
   */
  clear_columns?: string[];
  /**
   * Instead of `clear_columns`: a DELETE statement run when an output event is acked, with the
   * output row's fields, `:now` and `:window_start` as named parameters (for joins).
   */
  clear_sql?: string;
}

/** The clear-after-ack options' schema, shared by the sliding windows. */
export const clearOptions = {
  clear_columns: { type: 'array', description: 'on ack of an output event, delete window rows with these column values' },
  clear_sql: { type: 'string', description: 'on ack of an output event, run this DELETE (row fields as :params)' },
} as const;

/** Checks clear options against the table once, when the node is built. */
export function checkClear(opts: ClearOptions, table: WindowTable, where: string): void {
  if (opts.clear_columns && opts.clear_sql) {
    throw new TributaryError('BAD_OPTION', `${where}: give clear_columns or clear_sql, not both`);
  }
  for (const c of opts.clear_columns ?? []) {
    if (!table.columns.includes(c)) {
      throw new TributaryError('BAD_OPTION', `${where}: clear column '${c}' is not a column of table '${table.name}' (columns: ${table.columns.join(', ')})`);
    }
  }
}

/**
 * The ack handle of a window's output event when clear-after-ack is on: acking it deletes the
 * rows that produced the output, so the condition has to build up again before it fires
 * again. A nack deletes nothing.
 */
export function clearDelivery(
  ctx: NodeContext,
  store: WindowStore,
  lane: Lane,
  table: WindowTable,
  opts: ClearOptions,
  row: Record<string, unknown>,
  params: SqlParams,
  upTo?: { column: string; value: number },
): Delivery | undefined {
  if (!opts.clear_columns && !opts.clear_sql) return undefined;
  const where = `node '${ctx.name}'`;
  return createDelivery((s) => {
    if (!s.acked) return;
    void lane
      .run(async () => {
        if (opts.clear_sql) {
          await store.query(opts.clear_sql, { ...params, ...row }, `${where} clear_sql`);
          return;
        }
        const cols = opts.clear_columns!;
        const missing = cols.filter((c) => !(c in row));
        if (missing.length) throw new Error(`output row has no '${missing.join("', '")}' to clear by (select the clear columns in the query)`);
        const conds = cols.map((c) => `${quoteIdent(store.dialect, c)} = ?`);
        const values: unknown[] = cols.map((c) => row[c]);
        if (upTo) {
          conds.push(`${quoteIdent(store.dialect, upTo.column)} <= ?`);
          values.push(upTo.value);
        }
        const statements = table.deleteWhere(conds.join(' AND '), values);
        await store.transaction(async (m) => {
          for (const st of statements) await m.query(st.sql, st.values);
        });
      })
      .catch((err) => ctx.logger.error(`${where}: clear after ack failed: ${errorMessage(err)}`));
  });
}
