import { TributaryError } from '../errors';
import { shownUrl } from '../util/redact';
import { memoryStore } from './memory';
import type { KeyValueStore } from './types';

/** Options of {@link openStateStore}. */
export interface StateStoreOptions {
  /** The clock TTLs are measured on (default `Date.now`); give a virtual clock to test expiry. */
  now?: () => number;
}

/**
 * Opens a {@link KeyValueStore} by URL:
 * - `memory:` — in process memory (lost at exit);
 * - `sqlite:./state.db`, `sqlite::memory:` — SQLite through TypeORM;
 * - `mysql://user:pass@host:3306/db` (or `mariadb://`), `postgres://user:pass@host:5432/db` —
 *   one table `tributary_state` (another with `?table=name`);
 * - `redis://[:pass@]host:6379[/db]`, `rediss://…` — hashes under `tributary:state:` (another
 *   prefix with `?prefix=`).
 *
 * The store's `url` and every error show the URL with its password as `***`.
 *
 * @example
 * ```ts
 * const kv = await openStateStore('sqlite:./state.db');
 * await kv.put('sum:alice', 5);
 * await kv.close();
 * ```
 */
export async function openStateStore(url: string, options: StateStoreOptions = {}): Promise<KeyValueStore> {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TributaryError('BAD_OPTION', `state store: a URL is required (${SUPPORTED})`);
  }
  const u = url.trim();
  if (/^memory:$/i.test(u)) return memoryStore({ now: options.now });
  if (/^(sqlite:|mysql:\/\/|mariadb:\/\/|postgres(ql)?:\/\/)/i.test(u)) {
    // Loaded on first use: a network without a SQL store never loads TypeORM.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./sql') as typeof import('./sql')).openSqlStore(u, options);
  }
  if (/^rediss?:\/\//i.test(u)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./redis') as typeof import('./redis')).openRedisStore(u, options);
  }
  throw new TributaryError('BAD_OPTION', `state store: unsupported URL '${shownUrl(u)}' (${SUPPORTED})`);
}

const SUPPORTED =
  'use memory:, sqlite:./state.db, sqlite::memory:, mysql://user:pass@host/db, postgres://user:pass@host/db or redis://host:6379';
