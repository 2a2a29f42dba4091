import { periodic } from '../operators/periodic';
import { createHash } from 'node:crypto';
import { TributaryError, errorMessage } from '../errors';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { formatPayload } from '../nodes/tester';
import { storeOf, WINDOW_SERVICE, windowOperator } from './common';
import { quoteIdent } from './sql';
import type { WindowStore } from './store';

const filterOptions = {
  duration: opt.duration('how long a payload suppresses identical ones', { min: 1 }).require(),
  table: opt.string('table keeping the hashes (keyed by node name)').withDefault('tributary_filter'),
};

/** Options of {@link filter}: `duration`, `table` (default `tributary_filter`, shared by all filters, keyed by node name). */
export type FilterOptions = InputOf<typeof filterOptions>;

const created = new WeakMap<WindowStore, Map<string, Promise<void>>>();

/** Creates the dedupe table once per store. */
function ensureTable(store: WindowStore, table: string): Promise<void> {
  let perStore = created.get(store);
  if (!perStore) created.set(store, (perStore = new Map()));
  let p = perStore.get(table);
  if (!p) {
    const q = (s: string) => quoteIdent(store.dialect, s);
    p = store.dataSource
      .query(
        `CREATE TABLE IF NOT EXISTS ${q(table)} (filter_name VARCHAR(191) NOT NULL, hash CHAR(64) NOT NULL, ` +
          `created_at BIGINT NOT NULL, PRIMARY KEY (filter_name, hash))`,
      )
      .then(() => undefined);
    perStore.set(table, p);
  }
  return p;
}

/**
 * Pipeline dropping (and acking) a payload identical to one let through less than `duration`
 * ago, remembered in the window database (the original's `create_filter`): a SHA-256 of the
 * payload's JSON text under a unique key (node name, hash). Rows older than the duration are
 * deleted on a timer of the same period. With a file, MySQL or PostgreSQL database, duplicates stay
 * suppressed across a restart — the point of keeping it in SQL. For in-memory dedupe use
 * `dedupe`.
 *
 * @example
 * ```ts
 * net.add('dedupe_liability', windows.filter({ duration: '10s' }));
 * ```
 */
export const filter = defineNode({
  name: 'filter',
  role: 'pipeline',
  summary: 'SQL-backed dedupe: drops a payload identical to one let through within the duration, across restarts.',
  options: filterOptions,
  services: [WINDOW_SERVICE],
  positional: ['duration'],
  example: "net.add('dedupe_liability', windows.filter({ duration: '10s' }));",
  luaExample: 'tb.create_filter("dedupe_liability", "10s")',
  build: ({ duration, table }) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new TributaryError('BAD_OPTION', `node kind 'filter': bad table name '${table}'`);
    return {
      role: 'pipeline',
      kind: 'filter',
      create: (ctx) => {
        const store = storeOf(ctx);
        const serial = store.serialQueue();
        const q = (s: string) => quoteIdent(store.dialect, s);
        const t = q(table);
        const where = `node '${ctx.name}'`;
        return windowOperator(({ emit, begin, end }) => {
          const clean = () => {
            const cutoff = ctx.scheduler.now() - duration;
            begin();
            serial
              .run(async () => {
                await ensureTable(store, table);
                await store.execute(`DELETE FROM ${t} WHERE filter_name = ? AND created_at < ?`, [ctx.name, cutoff]);
              })
              .catch((err) => ctx.logger.error(`${where}: clean-up failed: ${errorMessage(err)}`))
              .finally(end);
          };
          const timer = periodic(ctx.scheduler, duration, clean);
          return {
            next(e) {
              if (e.error) return emit(e);
              let hash: string;
              try {
                hash = createHash('sha256').update(formatPayload(e.payload)).digest('hex');
              } catch (err) {
                return emit(ctx.fail(e, err));
              }
              const now = ctx.scheduler.now();
              begin();
              serial
                .run(async () => {
                  await ensureTable(store, table);
                  const seen = (await store.execute(`SELECT created_at FROM ${t} WHERE filter_name = ? AND hash = ?`, [
                    ctx.name,
                    hash,
                  ])) as { created_at: number | string }[];
                  if (seen.length > 0) {
                    if (Number(seen[0].created_at) > now - duration) return false;
                    await store.execute(`UPDATE ${t} SET created_at = ? WHERE filter_name = ? AND hash = ?`, [now, ctx.name, hash]);
                    return true;
                  }
                  const insert = `INSERT INTO ${t} (filter_name, hash, created_at) VALUES (?, ?, ?)`;
                  if (store.dialect === 'postgres') {
                    // A failed INSERT would also fail the transaction around it: let the key decide quietly.
                    const won = await store.execute(`${insert} ON CONFLICT (filter_name, hash) DO NOTHING RETURNING 1 AS won`, [
                      ctx.name,
                      hash,
                      now,
                    ]);
                    return Array.isArray(won) && won.length > 0;
                  }
                  try {
                    await store.execute(insert, [ctx.name, hash, now]);
                  } catch (err) {
                    // Another process let the same payload through first.
                    if (/duplicate|unique/i.test(errorMessage(err))) return false;
                    throw err;
                  }
                  return true;
                })
                .then(
                  (pass) => (pass ? emit(e) : ctx.drop(e)),
                  (err) => emit(ctx.fail(e, err)),
                )
                .finally(end);
            },
            complete: () => timer.unsubscribe(),
            teardown: () => timer.unsubscribe(),
          };
        });
      },
    };
  },
});
