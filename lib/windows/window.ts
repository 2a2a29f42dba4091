import { defineNode } from '../nodes/registry';
import { storeOf, windowOperator } from './common';
import type { TimeUnit } from './sql';
import { BatchWriter } from './writer';

/** Options of {@link window}. */
export interface WindowOptions {
  /** Table (or entity name) to insert into; default the store's default table. */
  table?: string;
  /** Most events committed in one transaction. Default 1000. */
  max_batch?: number;
  /** A time column filled from the event time when the payload leaves it out. */
  time_column?: string;
  /** Unit of `time_column`: Unix seconds (`"s"`, default) or milliseconds (`"ms"`). */
  time_unit?: TimeUnit;
}

/**
 * Pipeline inserting each payload as a row of a window table (the original's
 * `create_window`), then passing the event on. Events arriving while a transaction commits
 * share the next one (one multi-row INSERT), so an event goes on only after its row is
 * committed; its ack handle travels with it, so the source hears "done" only once the row
 * is safe *and* downstream is done. A payload the table rejects becomes an error event; the
 * rest of its batch still commits. An entity with a one-to-many relation gets its children
 * inserted from the same payload (a bet with its `selections`).
 *
 * @example
 * ```ts
 * net.provide(WINDOW_SERVICE, await openWindowStore({ entities: [Bet, Selection] }));
 * net.add('bets_window', windows.window({ table: 'example_bets' }));
 * net.link('streaming_ingest', 'bets_window');
 * ```
 */
export const window = defineNode<WindowOptions, { table?: string; max_batch: number; time_column?: string; time_unit: TimeUnit }>({
  name: 'window',
  role: 'pipeline',
  summary: 'Inserts each payload as a row of a window table (batched), then passes the event on.',
  options: {
    table: { type: 'string', description: "table or entity to insert into; default the store's default table" },
    max_batch: { type: 'integer', min: 1, default: 1000, description: 'most events committed in one transaction' },
    time_column: { type: 'string', description: 'time column filled from the event time when the payload leaves it out' },
    time_unit: { type: 'string', enum: ['s', 'ms'], default: 's', description: 'unit of time_column: Unix seconds or milliseconds' },
  },
  positional: ['table'],
  example: "net.add('bets_window', windows.window({ table: 'example_bets' }));",
  luaExample: 'tb.create_window("bets_window")',
  build: (o) => ({
    role: 'pipeline',
    kind: 'window',
    create: (ctx) => {
      const store = storeOf(ctx);
      const where = `node '${ctx.name}'`;
      const table = store.table(o.table, where);
      if (o.time_column && !table.columns.includes(o.time_column)) {
        throw new Error(`${where}: table '${table.name}' has no time column '${o.time_column}' (columns: ${table.columns.join(', ')})`);
      }
      return windowOperator(({ emit, begin, end }) => {
        const writer = new BatchWriter(store, store.lane(), table, {
          maxBatch: o.max_batch,
          time: o.time_column ? { column: o.time_column, unit: o.time_unit } : undefined,
        });
        return {
          next(e) {
            if (e.error) return emit(e);
            begin();
            writer.write(e, (event, err) => {
              emit(err === undefined ? event : ctx.fail(event, err));
              end();
            });
          },
        };
      });
    },
  }),
});
