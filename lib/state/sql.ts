import type { DataSource, DataSourceOptions, QueryRunner } from 'typeorm';
import { errorMessage, TributaryError } from '../errors';
import { redactUrlSecrets, shownUrl } from '../util/redact';
import type { BatchOp, KeyValueStore, Versioned } from './types';

/** Options of {@link openSqlStore}. */
export interface SqlStoreOptions {
  /** The clock TTLs are measured on (default `Date.now`): a virtual clock makes expiry testable. */
  now?: () => number;
  /** The table (default `tributary_state`, or `?table=` in the URL). */
  table?: string;
}

type Dialect = 'sqlite' | 'mysql' | 'postgres';

/** Rows per multi-row statement: well under every driver's parameter limit (4 parameters a row). */
const CHUNK = 200;
/** Rows a `list` page reads. */
const PAGE = 500;

interface Row {
  key: string;
  value: string;
  version: number | string;
}

/**
 * Opens a {@link KeyValueStore} on a SQL database through TypeORM: `sqlite:./state.db`,
 * `sqlite::memory:`, `mysql://…` / `mariadb://…` or `postgres://…`. Everything lives in one
 * table, `tributary_state(key, value, version, expires_at)`, created if missing. Values are
 * JSON text; compare-and-set is an `UPDATE … WHERE version = ?` (for an absent key: a
 * placeholder row at version 0, then the same update), so it needs no lock that a crash could
 * leave held; `batch` runs in one transaction. Expired entries are invisible to reads at once
 * (the expiry time is stored and compared with the store's clock) and deleted later.
 *
 * @example
 * ```ts
 * const kv = await openSqlStore('sqlite:./state.db');
 * await kv.batch([{ op: 'put', key: 'sum:alice', value: 5 }, { op: 'delete', key: 'sum:bob' }]);
 * await kv.close();
 * ```
 */
export async function openSqlStore(url: string, options: SqlStoreOptions = {}): Promise<KeyValueStore> {
  const shown = shownUrl(url);
  const { base, table: urlTable } = takeTableParam(url);
  const table = options.table ?? urlTable ?? 'tributary_state';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw new TributaryError('BAD_OPTION', `state store: table '${table}' in '${shown}' must be letters, digits and underscores`);
  }
  const dialect: Dialect = /^sqlite:/i.test(base) ? 'sqlite' : /^postgres(ql)?:/i.test(base) ? 'postgres' : 'mysql';
  // TypeORM loads on first use so importing Tributary stays light.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DataSource: TypeOrmDataSource } = require('typeorm') as typeof import('typeorm');
  const ds = new TypeOrmDataSource(sqlOptions(dialect, base));
  try {
    await ds.initialize();
  } catch (e) {
    throw new TributaryError('BAD_OPTION', `state store: cannot open '${shown}': ${redactUrlSecrets(url, errorMessage(e))}`, {
      cause: e,
    });
  }
  const store = new SqlStore(ds, dialect, table, options.now ?? Date.now, shown, url);
  try {
    await store.prepare();
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    throw e;
  }
  return store;
}

function takeTableParam(url: string): { base: string; table?: string } {
  const q = url.indexOf('?');
  if (q < 0) return { base: url };
  let table: string | undefined;
  const rest = url
    .slice(q + 1)
    .split('&')
    .filter((kv) => {
      const [k, v = ''] = kv.split('=');
      if (k !== 'table') return true;
      table = decodeURIComponent(v);
      return false;
    });
  return { base: url.slice(0, q) + (rest.length ? `?${rest.join('&')}` : ''), table };
}

function sqlOptions(dialect: Dialect, url: string): DataSourceOptions {
  if (dialect === 'sqlite') {
    let database = url.slice('sqlite:'.length);
    if (database.startsWith('//')) database = database.slice(2);
    if (database === '' || database === ':memory:' || database === ':memory') database = ':memory:';
    const file = database !== ':memory:';
    return { type: 'sqlite', database, driver: quietSqlite(), ...(file ? { enableWAL: true, busyTimeout: 10000 } : {}) };
  }
  if (dialect === 'postgres') return { type: 'postgres', url };
  return {
    type: url.startsWith('mariadb') ? 'mariadb' : 'mysql',
    url: url.replace(/^mariadb:/, 'mysql:'),
    supportBigNumbers: true,
    bigNumberStrings: false,
  };
}

/**
 * The sqlite3 module with `verbose()` a no-op: TypeORM calls it, and its long stack traces cost
 * a stack capture per query.
 */
function quietSqlite(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require('sqlite3') as { verbose(): unknown };
  return Object.create(sqlite3, { verbose: { value: () => sqlite3 } });
}

/** A queue that runs one task at a time (SQLite has one connection: a transaction must not interleave). */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

class SqlStore implements KeyValueStore {
  private readonly t: string;
  private readonly serial: Serial | undefined;
  private batches = 0;
  private closed = false;

  constructor(
    private readonly ds: DataSource,
    private readonly dialect: Dialect,
    table: string,
    private readonly now: () => number,
    readonly url: string,
    private readonly rawUrl: string,
  ) {
    this.t = this.q(table);
    this.serial = dialect === 'sqlite' ? new Serial() : undefined;
  }

  private q(name: string): string {
    return this.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
  }

  /** SQL with `?` placeholders, numbered for PostgreSQL. */
  private sql(text: string): string {
    if (this.dialect !== 'postgres') return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }

  private fail(what: string, e: unknown): never {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('STATE', `state store '${this.url}': ${what} failed: ${redactUrlSecrets(this.rawUrl, errorMessage(e))}`, {
      cause: e,
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TributaryError('STATE', `state store '${this.url}' is closed`));
    return this.serial ? this.serial.run(task) : task();
  }

  private async exec(sql: string, params: unknown[], runner?: QueryRunner): Promise<{ rows: Row[]; affected: number }> {
    const r = runner ?? this.ds.createQueryRunner();
    try {
      const res = await r.query(this.sql(sql), params, true);
      const rows = Array.isArray(res.records) ? (res.records as Row[]) : [];
      return { rows, affected: Number(res.affected ?? 0) };
    } finally {
      if (!runner) await r.release();
    }
  }

  async prepare(): Promise<void> {
    const k = this.q('key');
    const ddl =
      this.dialect === 'sqlite'
        ? `CREATE TABLE IF NOT EXISTS ${this.t} (${k} TEXT PRIMARY KEY NOT NULL, "value" TEXT NOT NULL, "version" INTEGER NOT NULL, "expires_at" INTEGER)`
        : this.dialect === 'postgres'
          ? `CREATE TABLE IF NOT EXISTS ${this.t} (${k} TEXT COLLATE "C" PRIMARY KEY, "value" TEXT NOT NULL, "version" INTEGER NOT NULL, "expires_at" BIGINT)`
          : `CREATE TABLE IF NOT EXISTS ${this.t} (${k} VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, \`value\` LONGTEXT NOT NULL, \`version\` INT NOT NULL, \`expires_at\` BIGINT NULL)`;
    try {
      await this.exec(ddl, []);
    } catch (e) {
      // Two processes creating the table at once: PostgreSQL may report the loser's duplicate type.
      const exists = await this.exec(`SELECT COUNT(*) AS n FROM ${this.t}`, []).then(
        () => true,
        () => false,
      );
      if (!exists) this.fail('creating the table', e);
    }
    await this.purge();
  }

  /** Deletes expired rows (reads already ignore them). */
  private async purge(): Promise<void> {
    try {
      await this.exec(`DELETE FROM ${this.t} WHERE ${this.q('expires_at')} IS NOT NULL AND ${this.q('expires_at')} <= ?`, [this.now()]);
    } catch (e) {
      this.fail('purging expired entries', e);
    }
  }

  private live(): string {
    return `${this.q('version')} > 0 AND (${this.q('expires_at')} IS NULL OR ${this.q('expires_at')} > ?)`;
  }

  private expiry(ttlMs: number | undefined): number | null {
    return ttlMs === undefined ? null : this.now() + ttlMs;
  }

  get<T = unknown>(key: string): Promise<Versioned<T> | undefined> {
    return this.exclusive(async () => {
      try {
        const { rows } = await this.exec(
          `SELECT ${this.q('value')} AS ${this.q('value')}, ${this.q('version')} AS ${this.q('version')} FROM ${this.t} WHERE ${this.q('key')} = ? AND ${this.live()}`,
          [key, this.now()],
        );
        return rows.length ? { value: JSON.parse(rows[0].value) as T, version: Number(rows[0].version) } : undefined;
      } catch (e) {
        return this.fail(`get '${key}'`, e);
      }
    });
  }

  /** The multi-row upsert of `rows` (key, value JSON, expiry): version 1 for a new, expired or placeholder row, else +1. */
  private upsert(rows: Array<[string, string, number | null]>, runner?: QueryRunner): Promise<unknown> {
    const values = rows.map(() => '(?, ?, 1, ?)').join(', ');
    const params: unknown[] = rows.flat();
    params.push(this.now());
    const [k, v, ver, exp] = ['key', 'value', 'version', 'expires_at'].map((c) => this.q(c));
    const insert = `INSERT INTO ${this.t} (${k}, ${v}, ${ver}, ${exp}) VALUES ${values}`;
    if (this.dialect === 'mysql') {
      // MySQL assigns left to right: the version is computed before expires_at is overwritten.
      return this.exec(
        `${insert} ON DUPLICATE KEY UPDATE ${ver} = IF(${ver} = 0 OR (${exp} IS NOT NULL AND ${exp} <= ?), 1, ${ver} + 1), ${v} = VALUES(${v}), ${exp} = VALUES(${exp})`,
        params,
        runner,
      );
    }
    const col = (c: string) => `${this.t}.${c}`;
    return this.exec(
      `${insert} ON CONFLICT (${k}) DO UPDATE SET ${v} = excluded.${v}, ${ver} = CASE WHEN ${col(ver)} = 0 OR (${col(exp)} IS NOT NULL AND ${col(exp)} <= ?) THEN 1 ELSE ${col(ver)} + 1 END, ${exp} = excluded.${exp}`,
      params,
      runner,
    );
  }

  /** Makes sure a row exists for `key` (a version-0 placeholder, invisible to reads) so an update can test its version. */
  private placeholder(keys: string[], runner?: QueryRunner): Promise<unknown> {
    const [k, v, ver, exp] = ['key', 'value', 'version', 'expires_at'].map((c) => this.q(c));
    const values = keys.map(() => `(?, 'null', 0, NULL)`).join(', ');
    const insert = `INSERT INTO ${this.t} (${k}, ${v}, ${ver}, ${exp}) VALUES ${values}`;
    return this.exec(
      this.dialect === 'mysql' ? `${insert} ON DUPLICATE KEY UPDATE ${ver} = ${ver}` : `${insert} ON CONFLICT (${k}) DO NOTHING`,
      keys,
      runner,
    );
  }

  put(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void> {
    return this.exclusive(async () => {
      try {
        await this.upsert([[key, json(value), this.expiry(options?.ttlMs)]]);
      } catch (e) {
        this.fail(`put '${key}'`, e);
      }
    });
  }

  compareAndSet(key: string, expectedVersion: number, value: unknown, options?: { ttlMs?: number }): Promise<boolean> {
    return this.exclusive(async () => {
      const [k, v, ver, exp] = ['key', 'value', 'version', 'expires_at'].map((c) => this.q(c));
      try {
        const now = this.now();
        const expires = options?.ttlMs === undefined ? null : now + options.ttlMs;
        if (expectedVersion === 0) {
          // Absent means: no row, a placeholder, or an expired row. Two writers racing both see
          // the placeholder; the database serialises their updates and the second finds version 1.
          await this.placeholder([key]);
          const { affected } = await this.exec(
            `UPDATE ${this.t} SET ${v} = ?, ${ver} = 1, ${exp} = ? WHERE ${k} = ? AND (${ver} = 0 OR (${exp} IS NOT NULL AND ${exp} <= ?))`,
            [json(value), expires, key, now],
          );
          return affected === 1;
        }
        const { affected } = await this.exec(
          `UPDATE ${this.t} SET ${v} = ?, ${ver} = ${ver} + 1, ${exp} = ? WHERE ${k} = ? AND ${ver} = ? AND (${exp} IS NULL OR ${exp} > ?)`,
          [json(value), expires, key, expectedVersion, now],
        );
        return affected === 1;
      } catch (e) {
        return this.fail(`compareAndSet '${key}'`, e);
      }
    });
  }

  delete(key: string): Promise<void> {
    return this.exclusive(async () => {
      try {
        await this.exec(`DELETE FROM ${this.t} WHERE ${this.q('key')} = ?`, [key]);
      } catch (e) {
        this.fail(`delete '${key}'`, e);
      }
    });
  }

  async *list<T = unknown>(prefix: string): AsyncIterable<[string, Versioned<T>]> {
    const [k, v, ver] = ['key', 'value', 'version'].map((c) => this.q(c));
    let after: string | undefined;
    for (;;) {
      const page = await this.exclusive(async () => {
        try {
          const cond = after === undefined ? `${k} >= ?` : `${k} > ?`;
          const { rows } = await this.exec(
            `SELECT ${k} AS ${k}, ${v} AS ${v}, ${ver} AS ${ver} FROM ${this.t} WHERE ${cond} AND ${this.live()} ORDER BY ${k} LIMIT ${PAGE}`,
            [after ?? prefix, this.now()],
          );
          return rows;
        } catch (e) {
          return this.fail(`list '${prefix}'`, e);
        }
      });
      for (const r of page) {
        // The key column sorts bytewise, so the prefix's keys are contiguous.
        if (!r.key.startsWith(prefix)) return;
        yield [r.key, { value: JSON.parse(r.value) as T, version: Number(r.version) }];
      }
      if (page.length < PAGE) return;
      after = page[page.length - 1].key;
    }
  }

  batch(ops: BatchOp[]): Promise<boolean> {
    if (ops.length === 0) return Promise.resolve(true);
    return this.exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const ok = await this.transaction(ops);
          if (++this.batches % 256 === 0) await this.purge();
          return ok;
        } catch (e) {
          if (attempt < 5 && isRetryable(e)) continue;
          return this.fail('batch', e);
        }
      }
    });
  }

  private async transaction(ops: BatchOp[]): Promise<boolean> {
    const runner = this.ds.createQueryRunner();
    let open = false;
    try {
      if (this.dialect === 'sqlite') await runner.query('BEGIN IMMEDIATE');
      else await runner.startTransaction();
      open = true;
      const checks = ops.filter((o): o is Extract<BatchOp, { op: 'check' }> => o.op === 'check');
      if (checks.length) {
        const keys = [...new Set(checks.map((c) => c.key))].sort();
        const now = this.now();
        // The placeholders lock every checked row (absent ones too) until commit, in key order.
        for (let i = 0; i < keys.length; i += CHUNK) await this.placeholder(keys.slice(i, i + CHUNK), runner);
        const found = new Map<string, number>();
        const lock = this.dialect === 'sqlite' ? '' : ' FOR UPDATE';
        for (let i = 0; i < keys.length; i += CHUNK) {
          const part = keys.slice(i, i + CHUNK);
          const { rows } = await this.exec(
            `SELECT ${this.q('key')} AS ${this.q('key')}, ${this.q('version')} AS ${this.q('version')} FROM ${this.t} WHERE ${this.q('key')} IN (${part.map(() => '?').join(', ')}) AND ${this.live()}${lock}`,
            [...part, now],
            runner,
          );
          for (const r of rows) found.set(r.key, Number(r.version));
        }
        if (checks.some((c) => (found.get(c.key) ?? 0) !== c.version)) {
          await this.rollback(runner);
          open = false;
          return false;
        }
      }
      // The last write of a key wins (one statement must not touch a row twice).
      const last = new Map<string, BatchOp>();
      for (const o of ops) {
        if (o.op === 'check') continue;
        last.delete(o.key);
        last.set(o.key, o);
      }
      const deletes = [...last.values()].filter((o) => o.op === 'delete').map((o) => o.key);
      const puts: Array<[string, string, number | null]> = [];
      for (const o of last.values()) if (o.op === 'put') puts.push([o.key, json(o.value), this.expiry(o.ttlMs)]);
      for (let i = 0; i < deletes.length; i += CHUNK) {
        const part = deletes.slice(i, i + CHUNK);
        await this.exec(`DELETE FROM ${this.t} WHERE ${this.q('key')} IN (${part.map(() => '?').join(', ')})`, part, runner);
      }
      for (let i = 0; i < puts.length; i += CHUNK) await this.upsert(puts.slice(i, i + CHUNK), runner);
      if (this.dialect === 'sqlite') await runner.query('COMMIT');
      else await runner.commitTransaction();
      open = false;
      return true;
    } catch (e) {
      if (open) await this.rollback(runner).catch(() => undefined);
      throw e;
    } finally {
      await runner.release();
    }
  }

  private async rollback(runner: QueryRunner): Promise<void> {
    if (this.dialect === 'sqlite') await runner.query('ROLLBACK');
    else await runner.rollbackTransaction();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Let queued work finish first.
    if (this.serial) await this.serial.run(() => Promise.resolve());
    this.closed = true;
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** Deadlocks and lock timeouts (MySQL), serialisation failures (PostgreSQL), a busy SQLite file. */
function isRetryable(e: unknown): boolean {
  const d = (e as { driverError?: { errno?: number; code?: string } }).driverError ?? (e as { errno?: number; code?: string });
  return d?.errno === 1213 || d?.errno === 1205 || d?.code === '40P01' || d?.code === '40001' || d?.code === 'SQLITE_BUSY';
}
