import type { DataSourceOptions } from 'typeorm';
import { TributaryError } from '../errors';
import { postgresSchema } from '../util/pg-url';
import { shownUrl } from '../util/redact';

/** The SQL flavours the event store speaks. */
export type EventStoreDialect = 'sqlite' | 'mysql' | 'postgres';

/**
 * The dialect of an event store URL: `sqlite:` (a file, or `sqlite::memory:`), `mysql://` or
 * `mariadb://`, `postgres://` or `postgresql://`.
 *
 * @example
 * ```ts
 * eventStoreDialect('postgres://app@db/shop'); // 'postgres'
 * ```
 */
export function eventStoreDialect(url: string): EventStoreDialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new TributaryError(
    'BAD_OPTION',
    `event store: unsupported URL '${shownUrl(url)}' (use sqlite:./file.db, sqlite::memory:, mysql://user:pass@host:port/db or postgres://user:pass@host:port/db)`,
  );
}

/**
 * TypeORM DataSource options for an event store URL (no entities: the store speaks SQL).
 * `?schema=name` on a PostgreSQL URL puts the tables in that schema.
 *
 * @example
 * ```ts
 * eventStoreDataSourceOptions('sqlite:./outbox.db'); // { type: 'sqlite', database: './outbox.db', enableWAL: true, … }
 * ```
 */
export function eventStoreDataSourceOptions(url: string): DataSourceOptions {
  const dialect = eventStoreDialect(url);
  if (dialect === 'sqlite') {
    let database = url.slice('sqlite:'.length);
    if (database.startsWith('//')) database = database.slice(2);
    if (database === '' || database === ':memory:' || database === ':memory') database = ':memory:';
    return database === ':memory:' ? { type: 'sqlite', database } : { type: 'sqlite', database, enableWAL: true, busyTimeout: 10_000 };
  }
  if (dialect === 'mysql') {
    return {
      type: url.startsWith('mariadb') ? 'mariadb' : 'mysql',
      url: url.replace(/^mariadb:/, 'mysql:'),
      supportBigNumbers: true,
      bigNumberStrings: true,
    };
  }
  const { url: base, schema } = postgresSchema(url, 'event store');
  return {
    type: 'postgres',
    url: base,
    ...(schema ? { schema, extra: { options: `-c search_path=${schema}` } } : {}),
  };
}

/**
 * The dialect of a TypeORM DataSource type.
 *
 * @example
 * ```ts
 * dialectOfType('mariadb'); // 'mysql'
 * ```
 */
export function dialectOfType(type: string): EventStoreDialect {
  if (type === 'sqlite' || type === 'better-sqlite3') return 'sqlite';
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  if (type === 'postgres') return 'postgres';
  throw new TributaryError('BAD_OPTION', `event store: DataSource type '${type}' is not supported (sqlite, mysql, mariadb, postgres)`);
}

/** The table names of one store: `<prefix>queue`, `<prefix>consumers`, `<prefix>history`, `<prefix>sequence`. */
export interface TableNames {
  queue: string;
  consumers: string;
  history: string;
  sequence: string;
}

/**
 * Table names from a prefix (default `evt_`, as FTN18's `evt_queue`): letters, digits, `_`.
 *
 * @example
 * ```ts
 * tableNames('shop_evt_').queue; // 'shop_evt_queue'
 * ```
 */
export function tableNames(prefix: string): TableNames {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(prefix)) {
    throw new TributaryError('BAD_OPTION', `event store: table prefix '${prefix}' must be letters, digits and underscores (at most 41)`);
  }
  return { queue: `${prefix}queue`, consumers: `${prefix}consumers`, history: `${prefix}history`, sequence: `${prefix}sequence` };
}

/**
 * The SQL one dialect needs: DDL, placeholders, a bigint parameter and text casts. Every id
 * crosses the driver as decimal text, so no id is ever a lossy JS number.
 */
export class Sql {
  constructor(readonly dialect: EventStoreDialect) {}

  /** `?` placeholders turned into `$1…` for PostgreSQL. */
  text(sql: string): string {
    if (this.dialect !== 'postgres') return sql;
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  }

  /** A placeholder holding a decimal string compared or stored as a BIGINT. */
  get big(): string {
    if (this.dialect === 'mysql') return 'CAST(? AS SIGNED)';
    if (this.dialect === 'postgres') return 'CAST(? AS BIGINT)';
    return 'CAST(? AS INTEGER)';
  }

  /** An integer column read back as decimal text. */
  asText(column: string): string {
    if (this.dialect === 'mysql') return `CAST(${column} AS CHAR)`;
    return `CAST(${column} AS TEXT)`;
  }

  /** The column holding an event's position: the id on SQLite (commits in id order), `seq` elsewhere. */
  get position(): string {
    return this.dialect === 'sqlite' ? 'id' : 'seq';
  }

  /** Quoted identifier. */
  id(name: string): string {
    return this.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`;
  }

  /** `CREATE TABLE IF NOT EXISTS` statements of the queue, consumers and sequence tables. */
  activeDdl(t: TableNames): string[] {
    const q = this.id(t.queue);
    const c = this.id(t.consumers);
    const s = this.id(t.sequence);
    if (this.dialect === 'sqlite') {
      return [
        // AUTOINCREMENT: an id is never reused, even after the discarder emptied the table.
        // No seq column: SQLite commits in id order (see EventStore.sequence), so the id is the position.
        `CREATE TABLE IF NOT EXISTS ${q} (id INTEGER PRIMARY KEY AUTOINCREMENT, type VARCHAR(16) NOT NULL, data TEXT NOT NULL, ts BIGINT NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS ${c} (id INTEGER PRIMARY KEY AUTOINCREMENT, ident VARCHAR(64) NOT NULL UNIQUE, last_id BIGINT NOT NULL DEFAULT 0, reg_time BIGINT NOT NULL, last_time BIGINT NOT NULL)`,
        `CREATE TABLE IF NOT EXISTS ${s} (id INTEGER PRIMARY KEY, last_seq BIGINT NOT NULL)`,
        `INSERT OR IGNORE INTO ${s} (id, last_seq) VALUES (1, 0)`,
      ];
    }
    if (this.dialect === 'mysql') {
      return [
        `CREATE TABLE IF NOT EXISTS ${q} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, type VARCHAR(16) NOT NULL, data LONGTEXT NOT NULL, ts BIGINT NOT NULL, seq BIGINT NULL, UNIQUE KEY ${this.id(`${t.queue}_seq`)} (seq), KEY ${this.id(`${t.queue}_unsequenced`)} (seq, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
        `CREATE TABLE IF NOT EXISTS ${c} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, ident VARCHAR(64) NOT NULL, last_id BIGINT NOT NULL DEFAULT 0, reg_time BIGINT NOT NULL, last_time BIGINT NOT NULL, UNIQUE KEY ${this.id(`${t.consumers}_ident`)} (ident)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
        `CREATE TABLE IF NOT EXISTS ${s} (id INT NOT NULL PRIMARY KEY, last_seq BIGINT NOT NULL) ENGINE=InnoDB`,
        `INSERT IGNORE INTO ${s} (id, last_seq) VALUES (1, 0)`,
      ];
    }
    return [
      `CREATE TABLE IF NOT EXISTS ${q} (id BIGSERIAL PRIMARY KEY, type VARCHAR(16) NOT NULL, data JSON NOT NULL, ts BIGINT NOT NULL, seq BIGINT NULL)`,
      `CREATE UNIQUE INDEX IF NOT EXISTS ${this.id(`${t.queue}_seq`)} ON ${q} (seq)`,
      `CREATE TABLE IF NOT EXISTS ${c} (id SERIAL PRIMARY KEY, ident VARCHAR(64) NOT NULL UNIQUE, last_id BIGINT NOT NULL DEFAULT 0, reg_time BIGINT NOT NULL, last_time BIGINT NOT NULL)`,
      `CREATE TABLE IF NOT EXISTS ${s} (id INT PRIMARY KEY, last_seq BIGINT NOT NULL)`,
      `INSERT INTO ${s} (id, last_seq) VALUES (1, 0) ON CONFLICT DO NOTHING`,
    ];
  }

  /** The history table (FTN18's `evt_history`): the position as id, never auto-generated. */
  historyDdl(t: TableNames): string[] {
    const h = this.id(t.history);
    if (this.dialect === 'sqlite') {
      return [
        `CREATE TABLE IF NOT EXISTS ${h} (id BIGINT NOT NULL PRIMARY KEY, type VARCHAR(16) NOT NULL, data TEXT NOT NULL, ts BIGINT NOT NULL)`,
      ];
    }
    if (this.dialect === 'mysql') {
      return [
        `CREATE TABLE IF NOT EXISTS ${h} (id BIGINT NOT NULL PRIMARY KEY, type VARCHAR(16) NOT NULL, data LONGTEXT NOT NULL, ts BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
      ];
    }
    return [
      `CREATE TABLE IF NOT EXISTS ${h} (id BIGINT NOT NULL PRIMARY KEY, type VARCHAR(16) NOT NULL, data JSON NOT NULL, ts BIGINT NOT NULL)`,
    ];
  }

  /** An insert that does nothing when the unique key exists. */
  insertIgnore(table: string, columns: string[], values: string): string {
    const cols = columns.join(', ');
    if (this.dialect === 'mysql') return `INSERT IGNORE INTO ${this.id(table)} (${cols}) VALUES ${values}`;
    if (this.dialect === 'sqlite') return `INSERT OR IGNORE INTO ${this.id(table)} (${cols}) VALUES ${values}`;
    return `INSERT INTO ${this.id(table)} (${cols}) VALUES ${values} ON CONFLICT DO NOTHING`;
  }
}

/**
 * A value read from an integer column as a decimal string: text as is, a bigint or a safe
 * integer converted; anything else (a rounded double) is an error rather than a wrong id.
 *
 * @example
 * ```ts
 * idText('9007199254740993'); // '9007199254740993'
 * idText(42);                 // '42'
 * ```
 */
export function idText(v: unknown): string {
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  throw new TributaryError('BAD_OPTION', `event store: expected an integer id, got ${JSON.stringify(String(v))}`);
}
