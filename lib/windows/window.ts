import type { Event } from '../event';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { batchingOptions, storeOf, timeUnitOption, WINDOW_SERVICE, windowOperator } from './common';
import { BatchWriter } from './writer';

const windowOptions = {
  table: opt.string("table or entity to insert into; default the store's default table"),
  maxBatch: batchingOptions.maxBatch,
  timeColumn: opt.string('time column filled from the event time when the payload leaves it out'),
  timeUnit: timeUnitOption,
};

/** Options of {@link window}: `table`, `maxBatch`, `timeColumn`, `timeUnit`. */
export type WindowOptions = InputOf<typeof windowOptions>;

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
export const window = defineNode({
  name: 'window',
  role: 'pipeline',
  summary: 'Inserts each payload as a row of a window table (batched), then passes the event on.',
  options: windowOptions,
  services: [WINDOW_SERVICE],
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
      if (o.timeColumn && !table.columns.includes(o.timeColumn)) {
        throw new Error(`${where}: table '${table.name}' has no time column '${o.timeColumn}' (columns: ${table.columns.join(', ')})`);
      }
      return windowOperator(({ emit, begin, end }) => {
        const writer = new BatchWriter(store, store.serialQueue(), table, {
          maxBatch: o.maxBatch,
          time: o.timeColumn ? { column: o.timeColumn, unit: o.timeUnit } : undefined,
        });
        // One callback for every event (not a closure each): fewer objects live per queued event.
        const written = (event: Event, err?: unknown) => {
          emit(err === undefined ? event : ctx.fail(event, err));
          end();
        };
        return {
          next(e) {
            if (e.error) return emit(e);
            begin();
            writer.write(e, written);
          },
        };
      });
    },
  }),
});
