import { TributaryError, errorMessage } from '../errors';
import { postgresSchema } from '../util/pg-url';
import { redact, shownUrl, urlSecrets } from '../util/redact';
import { windowDialect } from './store';

/* eslint-disable @typescript-eslint/no-require-imports -- the drivers load only for their URLs */

/**
 * The window database of partition `index` of a partitioned group run (docs/scale-out.md): the
 * SQL windows of different partitions must not share tables, or each partition's query would
 * see every partition's rows. Free SQL keeps working unchanged because only the place changes:
 * - `sqlite::memory:` → unchanged (every network opens its own);
 * - `sqlite:./tb.db` → `sqlite:./tb.p3.db`;
 * - `postgres://…/db?schema=win` → `…?schema=win_p3` (no schema: `public_p3`);
 * - `mysql://…/tb` → `mysql://…/tb_p3` (another database on the same server).
 *
 * @example
 * ```ts
 * partitionWindowUrl('sqlite:./tb.db', 3);                      // 'sqlite:./tb.p3.db'
 * partitionWindowUrl('postgres://app@db/tb?schema=win', 3);     // 'postgres://app@db/tb?schema=win_p3'
 * partitionWindowUrl('mysql://root@127.0.0.1:3306/test', 3);    // 'mysql://root@127.0.0.1:3306/test_p3'
 * ```
 */
export function partitionWindowUrl(url: string, index: number): string {
  if (!Number.isInteger(index) || index < 0)
    throw new TributaryError('BAD_OPTION', `partition index must be a whole number ≥ 0, got ${index}`);
  const dialect = windowDialect(url);
  if (dialect === 'sqlite') {
    const file = url.slice('sqlite:'.length);
    if (file === '' || file === ':memory:' || file === ':memory' || file === '//:memory:') return url;
    const slash = file.lastIndexOf('/');
    const dot = file.lastIndexOf('.');
    return dot > slash + 1 ? `sqlite:${file.slice(0, dot)}.p${index}${file.slice(dot)}` : `sqlite:${file}.p${index}`;
  }
  if (dialect === 'postgres') {
    const { url: base, schema } = postgresSchema(url, 'window store');
    return `${base}${base.includes('?') ? '&' : '?'}schema=${schema ?? 'public'}_p${index}`;
  }
  const u = new URL(url);
  const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_$]+$/.test(db)) {
    throw new TributaryError(
      'BAD_OPTION',
      `window store: database '${db}' in '${shownUrl(url)}' must be letters, digits, _ or $ to partition it`,
    );
  }
  u.pathname = `/${db}_p${index}`;
  return u.toString();
}

/**
 * Creates what a {@link partitionWindowUrl} names if it is missing: the PostgreSQL schema or the
 * MySQL/MariaDB database (SQLite files are created when opened). Errors name the URL without
 * its password.
 *
 * @example
 * ```ts
 * await ensurePartitionDatabase('postgres://app@db/tb?schema=win_p3'); // CREATE SCHEMA IF NOT EXISTS "win_p3"
 * ```
 */
export async function ensurePartitionDatabase(url: string): Promise<void> {
  const dialect = windowDialect(url);
  if (dialect === 'sqlite') return;
  try {
    if (dialect === 'postgres') {
      const { url: base, schema } = postgresSchema(url, 'window store');
      if (!schema) return;
      const { Client } = require('pg') as typeof import('pg');
      const client = new Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      } finally {
        await client.end();
      }
      return;
    }
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
    if (!/^[A-Za-z0-9_$]+$/.test(db)) throw new Error(`database '${db}' must be letters, digits, _ or $`);
    u.pathname = '/';
    const mysql = require('mysql2/promise') as typeof import('mysql2/promise');
    const conn = await mysql.createConnection(u.toString().replace(/^mariadb:/, 'mysql:'));
    try {
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${db}\``);
    } finally {
      await conn.end();
    }
  } catch (e) {
    throw new TributaryError(
      'STATE',
      `window store: cannot create the partition's database for '${shownUrl(url)}': ${redact(errorMessage(e), urlSecrets(url))}`,
      {
        cause: e,
      },
    );
  }
}
