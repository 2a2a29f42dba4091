import type { EntityManager } from 'typeorm';

/** The part of a sqlite3 `Statement` the window code uses. */
interface Statement {
  run(values: unknown[], callback: (err: Error | null) => void): void;
  finalize(callback?: () => void): void;
}

/** The part of a sqlite3 `Database` the window code uses. */
interface SqliteConnection {
  prepare(sql: string, callback?: (err: Error | null) => void): Statement;
}

/** Prepared statements per connection: the window's own INSERTs, compiled once per shape. */
const cache = new WeakMap<object, Map<string, Statement>>();

/** Most statements kept per connection (a few tables × two chunk sizes). */
const MAX_STATEMENTS = 32;

function sqliteConnection(manager: EntityManager): SqliteConnection | undefined {
  const ds = manager.connection;
  if (ds.options.type !== 'sqlite') return undefined;
  const conn = (ds.driver as unknown as { databaseConnection?: SqliteConnection }).databaseConnection;
  return conn && typeof conn.prepare === 'function' ? conn : undefined;
}

/**
 * Runs one of the window code's own statements (an INSERT with `?` placeholders) on
 * `manager`. On SQLite (the sqlite3 driver) it runs through a prepared statement kept for the
 * connection, so a multi-row INSERT of a full batch is compiled once, not once per batch —
 * a third of the database time of a 1000-row insert. The connection is the transaction's (SQLite
 * has one), so the statement runs inside it. Other databases: `manager.query`.
 * {@link finalizePrepared} releases the statements before the connection closes.
 *
 * @example
 * ```ts
 * await store.transaction((m) => runPrepared(m, 'INSERT INTO "t" ("a") VALUES (?), (?)', [1, 2]));
 * ```
 */
export async function runPrepared(manager: EntityManager, sql: string, values: unknown[]): Promise<void> {
  const conn = sqliteConnection(manager);
  if (!conn) {
    await manager.query(sql, values);
    return;
  }
  let statements = cache.get(conn);
  if (!statements) cache.set(conn, (statements = new Map()));
  let st = statements.get(sql);
  if (!st) {
    if (statements.size >= MAX_STATEMENTS) {
      const [oldest, old] = statements.entries().next().value as [string, Statement];
      statements.delete(oldest);
      old.finalize();
    }
    const map = statements;
    st = conn.prepare(sql, (err) => {
      if (err) map.delete(sql); // the run below reports the error
    });
    statements.set(sql, st);
  }
  const statement = st;
  await new Promise<void>((resolve, reject) =>
    statement.run(values, (err) => (err ? reject(new Error(`${err.message} (in ${sql.slice(0, 80)}…)`, { cause: err })) : resolve())),
  );
}

/**
 * Finalizes the prepared statements of a DataSource's SQLite connection (before it closes:
 * sqlite3 cannot close a connection with statements open).
 *
 * @example
 * ```ts
 * await finalizePrepared(store.dataSource.manager);
 * await store.dataSource.destroy();
 * ```
 */
export async function finalizePrepared(manager: EntityManager): Promise<void> {
  const conn = sqliteConnection(manager);
  const statements = conn && cache.get(conn);
  if (!statements) return;
  cache.delete(conn);
  await Promise.all([...statements.values()].map((st) => new Promise<void>((resolve) => st.finalize(() => resolve()))));
}
