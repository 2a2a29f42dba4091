import type { DataSource, DataSourceOptions, EntityManager, EntityMetadata } from 'typeorm';
import { TributaryError, errorMessage } from '../errors';
import { postgresSchema } from '../util/pg-url';
import { shownUrl } from '../util/redact';
import { pgPortableSql, pgResultTypes } from './postgres';
import { finalizePrepared, runPrepared } from './prepared';
import { bindNamed, normalizeRow, placeholders, quoteIdent, type Dialect, type SqlParams } from './sql';
import { DeclaredTable } from './declared-table';
import { EntityTable } from './entity-table';
import type { TableDeclaration, TableStatement, WindowTable } from './tables';

/** How to open a {@link WindowStore}. */
export interface WindowStoreOptions {
  /**
   * Where the window database is: `sqlite::memory:` (the default), `sqlite:./tb.db`,
   * `mysql://user:pass@host:port/db` (also `mariadb://`), `postgres://user:pass@host:port/db`
   * (also `postgresql://`; `?schema=name` for a schema other than the default). Ignored when
   * `dataSource` is given.
   */
  url?: string;
  /** A TypeORM DataSource of your own (any entities; initialized or not). */
  dataSource?: DataSource;
  /** TypeORM entities (decorated classes or `EntitySchema`) for a store made from `url`. */
  entities?: unknown[];
  /** Tables declared by name and typed columns, or schemaless (see {@link TableDeclaration}). */
  tables?: TableDeclaration[];
  /** Create missing tables from the entities. Default: true for `url`, false for your own DataSource. */
  synchronize?: boolean;
  /** The table `create_window` uses when none is named. Default: the first entity's table, else the first declared one. */
  defaultTable?: string;
}

/**
 * A serial queue of database work: a window's inserts, queries and clean-ups run in arrival
 * order, so a query always sees every row that arrived before it. On SQLite (one connection)
 * the whole store shares one queue. Get one with {@link WindowStore.serialQueue}.
 *
 * @example
 * ```ts
 * const serial = store.serialQueue();
 * void serial.run(() => store.query('delete from example_bets'));
 * const rows = await serial.run(() => store.query('select count(*) as n from example_bets')); // after the delete
 * ```
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly store: WindowStore) {}

  /**
   * Runs `fn` after everything queued before it; the result is tracked by the store.
   *
   * @example
   * ```ts
   * await serial.run(() => store.query('select 1'));
   * ```
   */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return this.store.track(result);
  }
}

/**
 * The database behind the windows: a TypeORM DataSource, the tables the windows may use
 * (entities and declared tables) and the bookkeeping that lets a virtual-time test wait for
 * outstanding database work ({@link WindowStore.idle}).
 *
 * @example
 * ```ts
 * const store = await openWindowStore({ url: 'sqlite:./tb.db', entities: [Bet, Selection] });
 * net.provide(WINDOW_SERVICE, store);
 * // … run the network
 * await net.stop();
 * await store.close();
 * ```
 */
export class WindowStore {
  readonly dialect: Dialect;
  private readonly tableMap = new Map<string, WindowTable>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly global: SerialQueue;
  private defaultName?: string;
  private closed = false;

  /** @internal use {@link openWindowStore} */
  constructor(
    readonly dataSource: DataSource,
    private readonly owned: boolean,
    defaultTable?: string,
  ) {
    const type = dataSource.options.type;
    if (type === 'mysql' || type === 'mariadb' || type === 'aurora-mysql') this.dialect = 'mysql';
    else if (type === 'postgres') this.dialect = 'postgres';
    else if (type === 'sqlite' || type === 'better-sqlite3' || type === 'sqljs' || type === 'capacitor' || type === 'expo')
      this.dialect = 'sqlite';
    else
      throw new TributaryError(
        'BAD_OPTION',
        `window store: database type '${type}' is not supported (SQLite, MySQL/MariaDB or PostgreSQL)`,
      );
    this.global = new SerialQueue(this);
    this.defaultName = defaultTable;
    for (const m of dataSource.entityMetadatas) this.entityTable(m);
  }

  /** The driver family: `'sqlite'`, `'mysql'` (MariaDB included) or `'postgres'`. */
  get driver(): Dialect {
    return this.dialect;
  }

  private entityTable(m: EntityMetadata): EntityTable {
    const existing = this.tableMap.get(m.tableName);
    if (existing instanceof EntityTable && existing.metadata === m) return existing;
    const t = new EntityTable(m, this.dialect, (x) => this.entityTable(x));
    this.tableMap.set(m.tableName, t);
    if (!this.tableMap.has(m.name)) this.tableMap.set(m.name, t);
    return t;
  }

  /**
   * A new serial queue for one node's work (on SQLite, the store's single queue).
   *
   * @example
   * ```ts
   * const serial = store.serialQueue();
   * await serial.run(() => store.query('select 1'));
   * ```
   */
  serialQueue(): SerialQueue {
    return this.dialect === 'sqlite' ? this.global : new SerialQueue(this);
  }

  /**
   * Runs one of the window code's own statements, written with `?` placeholders (rewritten
   * to `$1` … on PostgreSQL), on `manager` (a transaction) or the DataSource. The raw driver
   * result; use {@link query} for rows.
   *
   * @example
   * ```ts
   * await store.execute('DELETE FROM "example_bets" WHERE "create_time" < ?', [1700000000]);
   * ```
   */
  execute(sql: string, values: unknown[] = [], manager?: EntityManager): Promise<unknown> {
    return (manager ?? this.dataSource.manager).query(placeholders(this.dialect, sql), values);
  }

  /**
   * Runs one of the window code's own statements (`?` placeholders) on its own, outside any
   * transaction: a single statement is atomic, and once this resolves its changes are
   * committed. On SQLite it runs as a statement prepared once per connection and SQL text
   * (see {@link runPrepared}), and statements of the same text run in the order issued.
   *
   * @example
   * ```ts
   * await store.runStatement({ sql: 'INSERT INTO "alerts" ("customer", "total") VALUES (?, ?)', values: ['c1', 12] });
   * ```
   */
  runStatement(statement: TableStatement): Promise<void> {
    return runPrepared(this.dataSource.manager, placeholders(this.dialect, statement.sql), statement.values);
  }

  /**
   * Runs a statement like {@link execute} and resolves with how many rows it changed
   * (deleted, updated, inserted) as the driver reports it; 0 when the driver does not say.
   *
   * @example
   * ```ts
   * const gone = await store.executeCounted('DELETE FROM "example_bets" WHERE "create_time" < ?', [1700000000], m);
   * ```
   */
  async executeCounted(sql: string, values: unknown[], manager: EntityManager): Promise<number> {
    const runner = manager.queryRunner;
    if (!runner) {
      await this.execute(sql, values, manager);
      return 0;
    }
    const result = (await runner.query(placeholders(this.dialect, sql), values, true)) as { affected?: number };
    return Number(result?.affected ?? 0) || 0;
  }

  /**
   * Registers outstanding work so {@link idle} waits for it; returns the same promise.
   *
   * @example
   * ```ts
   * store.track(somePromise);
   * ```
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Resolves once no database work is outstanding and the callbacks it triggered have run
   * (which may have queued more: it waits for that too). Virtual-time tests call it between
   * clock steps; see {@link runVirtual}.
   *
   * @example
   * ```ts
   * scheduler.flush();
   * await store.idle(); // every insert, query and clean-up started by that frame has finished
   * ```
   */
  async idle(): Promise<void> {
    for (let quiet = 0; quiet < 2;) {
      await new Promise<void>((r) => setImmediate(r));
      if (this.pending.size === 0) quiet++;
      else {
        quiet = 0;
        await Promise.allSettled([...this.pending]);
      }
    }
  }

  /** True while database work is outstanding. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /**
   * The table a window uses, by table name or entity name; without a name, the default
   * table. An unknown name is an error listing the known ones.
   *
   * @example
   * ```ts
   * store.table('example_bets').columns; // ['uuid', 'customer_uuid', …]
   * ```
   */
  table(name?: string, where = 'window store'): WindowTable {
    const key = name ?? this.defaultName;
    if (key === undefined) {
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: name a table (the window store has no default table: give it entities or declared tables)`,
      );
    }
    const t = this.tableMap.get(key);
    if (!t) {
      const known = [...new Set([...this.tableMap.values()].map((x) => x.name))];
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: unknown table '${key}' (known: ${known.join(', ') || 'none'}; declare it or add an entity)`,
      );
    }
    return t;
  }

  /** Names of the tables windows can use. */
  tables(): string[] {
    return [...new Set([...this.tableMap.values()].map((x) => x.name))];
  }

  /**
   * Declares a table by name and typed columns (or schemaless) and creates it if missing.
   * Returns at once; the creation runs before any later database work of the store.
   *
   * @example
   * ```ts
   * store.declare({ name: 'raw_events', schemaless: true });
   * store.declare({ name: 'alerts', columns: { customer: 'string', total: 'number', at: 'integer' } });
   * ```
   */
  declare(declaration: TableDeclaration): WindowTable {
    const existing = this.tableMap.get(declaration.name);
    if (existing) {
      if (existing instanceof DeclaredTable && JSON.stringify(existing.declaration) === JSON.stringify(declaration)) return existing;
      throw new TributaryError('BAD_OPTION', `table '${declaration.name}' is already known to the window store`);
    }
    const t = new DeclaredTable(declaration, this.dialect);
    this.tableMap.set(t.name, t);
    this.defaultName ??= t.name;
    const statements = t.ddl();
    void this.exclusive(async () => {
      for (const s of statements) await this.dataSource.query(s);
    }).catch(() => undefined);
    return t;
  }

  /**
   * Runs `fn` with no other store work in between on SQLite and after everything queued
   * before it (table creation included) on MySQL and PostgreSQL. Use it for your own statements.
   *
   * @example
   * ```ts
   * await store.exclusive(() => store.dataSource.query('delete from example_bets'));
   * ```
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.global.run(fn);
  }

  /**
   * Runs SQL with named parameters (`:name`, see {@link bindNamed}) and returns the rows as
   * plain JSON-friendly objects (no rows: an empty list). Not serialized; call it inside a
   * serial queue or {@link exclusive} when order matters. On PostgreSQL the portable SQL is
   * rewritten first (`pgPortableSql` in lib/windows/postgres.ts) and result names are given
   * back their spelling, so the rows are the ones SQLite and MySQL return.
   *
   * @example
   * ```ts
   * const rows = await store.query('select count(*) as n from example_bets where create_time >= :t', { t: 1700000000 });
   * ```
   */
  query(sql: string, params: SqlParams = {}, where = 'query', manager?: EntityManager): Promise<Record<string, unknown>[]> {
    // Tracked, so idle() and close() wait for it (closing the pool would cut it off).
    return this.track(this.rows(sql, params, where, manager));
  }

  private async rows(sql: string, params: SqlParams, where: string, manager?: EntityManager): Promise<Record<string, unknown>[]> {
    const pg = this.dialect === 'postgres' ? pgPortableSql(sql) : undefined;
    const bound = bindNamed(pg?.sql ?? sql, params, where, this.dialect);
    let result: unknown = await (manager ?? this.dataSource.manager).query(bound.sql, bound.values);
    // TypeORM answers an UPDATE or DELETE on PostgreSQL with [rows, affected count].
    if (pg && Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
      result = result[0];
    }
    if (!Array.isArray(result)) return [];
    return result.map((r: Record<string, unknown>) => {
      if (!pg || pg.names.size === 0) return normalizeRow({ ...r });
      const renamed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) renamed[pg.names.get(k) ?? k] = v;
      return normalizeRow(renamed);
    });
  }

  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   *
   * @example
   * ```ts
   * await store.transaction((m) => store.table('example_bets').insert(m, rows));
   * ```
   */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /**
   * Waits for outstanding work, then closes the DataSource if the store opened it (a
   * DataSource you passed in initialized stays open). Safe to call twice.
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.idle();
    if (this.dataSource.isInitialized) await finalizePrepared(this.dataSource.manager);
    if (this.owned && this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * The driver family a window URL opens — `'sqlite'` (`sqlite:…`), `'mysql'` (`mysql://`,
 * `mariadb://`) or `'postgres'` (`postgres://`, `postgresql://`) — without opening it; any
 * other URL is an error naming it (password hidden). The one place that reads a window URL's
 * scheme.
 *
 * @example
 * ```ts
 * windowDialect('sqlite:./tb.db');          // 'sqlite'
 * windowDialect('mariadb://root@h/db');     // 'mysql'
 * windowDialect('postgresql://u:p@h/db');   // 'postgres'
 * windowDialect('mongodb://u:p@h/db');      // throws: window store: unsupported URL 'mongodb://u:***@h/db' …
 * ```
 */
export function windowDialect(url: string): Dialect {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (/^(mysql|mariadb):\/\//.test(url)) return 'mysql';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new TributaryError(
    'BAD_OPTION',
    `window store: unsupported URL '${shownUrl(url)}' (use sqlite::memory:, sqlite:./file.db, mysql://user:pass@host:port/db or postgres://user:pass@host:port/db)`,
  );
}

/**
 * Builds TypeORM DataSource options from a window URL.
 *
 * @example
 * ```ts
 * dataSourceOptionsFromUrl('sqlite:./tb.db', []);               // { type: 'sqlite', database: './tb.db', … }
 * dataSourceOptionsFromUrl('mysql://root@127.0.0.1:3306/test', []); // { type: 'mysql', url: …, … }
 * dataSourceOptionsFromUrl('postgres://app@db/tb?schema=windows', []); // { type: 'postgres', url: 'postgres://app@db/tb', schema: 'windows', … }
 * ```
 */
export function dataSourceOptionsFromUrl(url: string, entities: unknown[], synchronize = true): DataSourceOptions {
  const e = entities as DataSourceOptions['entities'];
  const dialect = windowDialect(url);
  if (dialect === 'postgres') return postgresOptions(url, e, synchronize);
  if (dialect === 'sqlite') {
    let database = url.slice('sqlite:'.length);
    if (database.startsWith('//')) database = database.slice(2);
    if (database === '' || database === ':memory:' || database === ':memory') database = ':memory:';
    const file = database !== ':memory:';
    return {
      type: 'sqlite',
      database,
      entities: e,
      synchronize,
      driver: quietSqlite(),
      ...(file ? { enableWAL: true, busyTimeout: 5000 } : {}),
    };
  }
  return {
    type: url.startsWith('mariadb') ? 'mariadb' : 'mysql',
    url: url.replace(/^mariadb:/, 'mysql:'),
    entities: e,
    synchronize,
    // COUNT/SUM/BIGINT and DECIMAL as numbers, so rows look the same as on SQLite.
    supportBigNumbers: true,
    bigNumberStrings: false,
    extra: { decimalNumbers: true },
  };
}

/** DataSource options for a `postgres://` URL: `?schema=` read off, numbers parsed as on the other drivers. */
function postgresOptions(url: string, entities: DataSourceOptions['entities'], synchronize: boolean): DataSourceOptions {
  const { url: base, schema } = postgresSchema(url, 'window store');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require('pg') as { types: Parameters<typeof pgResultTypes>[0] };
  return {
    type: 'postgres',
    url: base,
    entities,
    synchronize,
    ...(schema ? { schema } : {}),
    // BIGINT, COUNT and NUMERIC as numbers (when exact) and booleans as 1/0, so rows look
    // the same as on SQLite and MySQL; the schema first on the search path for your SQL.
    extra: { types: pgResultTypes(pg.types), ...(schema ? { options: `-c search_path=${schema}` } : {}) },
  };
}

/**
 * Column types of MySQL and SQLite entities that PostgreSQL calls otherwise, so one entity
 * class (the example's `@Column({ type: 'double' })`) works on every window database.
 */
const PG_TYPE_NAMES: Record<string, string> = {
  double: 'double precision',
  datetime: 'timestamp without time zone',
  tinyint: 'smallint',
  mediumint: 'integer',
  tinytext: 'text',
  mediumtext: 'text',
  longtext: 'text',
  blob: 'bytea',
  tinyblob: 'bytea',
  mediumblob: 'bytea',
  longblob: 'bytea',
};

/** Teaches a PostgreSQL DataSource's driver the type names of {@link PG_TYPE_NAMES}. */
function acceptMysqlTypes(ds: DataSource): void {
  const driver = ds.driver as unknown as { normalizeType(column: { type?: unknown }): string };
  const normalize = driver.normalizeType.bind(driver);
  driver.normalizeType = (column) => {
    const mapped = typeof column.type === 'string' ? PG_TYPE_NAMES[column.type.toLowerCase()] : undefined;
    return mapped ?? normalize(column);
  };
}

/**
 * Opens the window database: from a URL (default `sqlite::memory:`) with your entities, or
 * around a DataSource you built. Declared tables are created if missing.
 *
 * @example
 * ```ts
 * const store = await openWindowStore({ url: 'sqlite:./tb.db', entities: [Bet, Selection] });
 * const mine = await openWindowStore({ dataSource: myDataSource });
 * const lua = await openWindowStore({ tables: [{ name: 'raw_events', schemaless: true }] });
 * ```
 */
export async function openWindowStore(options: WindowStoreOptions = {}): Promise<WindowStore> {
  let ds: DataSource;
  let owned: boolean;
  if (options.dataSource) {
    ds = options.dataSource;
    owned = !ds.isInitialized;
    if (owned) await ds.initialize();
    if (options.synchronize) await ds.synchronize();
    for (const e of options.entities ?? []) {
      if (!ds.hasMetadata(e as never)) {
        throw new TributaryError(
          'BAD_OPTION',
          `window store: entity ${describeEntity(e)} is not part of the given DataSource (add it to its entities)`,
        );
      }
    }
  } else {
    // TypeORM loads here, on first use, so importing Tributary stays fast for networks without windows.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DataSource: TypeOrmDataSource } = require('typeorm') as typeof import('typeorm');
    ds = new TypeOrmDataSource(
      dataSourceOptionsFromUrl(options.url ?? 'sqlite::memory:', options.entities ?? [], options.synchronize ?? true),
    );
    owned = true;
    if (ds.options.type === 'postgres') acceptMysqlTypes(ds);
    try {
      await ds.initialize();
    } catch (e) {
      throw new TributaryError(
        'BAD_OPTION',
        `window store: cannot open '${shownUrl(options.url ?? 'sqlite::memory:')}': ${errorMessage(e)}`,
        { cause: e },
      );
    }
  }
  let defaultTable = options.defaultTable;
  if (defaultTable === undefined && options.entities && options.entities.length > 0) {
    defaultTable = ds.getMetadata(options.entities[0] as never).tableName;
  }
  const store = new WindowStore(ds, owned, defaultTable);
  for (const t of options.tables ?? []) store.declare(t);
  try {
    await store.idle();
  } catch {
    /* surfaced below */
  }
  // Surface a failed CREATE TABLE now rather than at the first insert.
  for (const t of options.tables ?? []) {
    try {
      await ds.query(`SELECT 1 FROM ${quoteIdent(store.dialect, t.name)} WHERE 1 = 0`);
    } catch (e) {
      await store.close();
      throw new TributaryError('BAD_OPTION', `window store: table '${t.name}' could not be created: ${errorMessage(e)}`, { cause: e });
    }
  }
  return store;
}

/**
 * sqlite3 without `verbose()`: TypeORM switches sqlite3 into verbose mode, which wraps every
 * call to record a stack trace and cost a third of the ingest time in the benchmark.
 */
function quietSqlite(): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sqlite3 = require('sqlite3') as { verbose(): unknown };
  return Object.create(sqlite3, { verbose: { value: () => sqlite3 } });
}

function describeEntity(e: unknown): string {
  if (typeof e === 'function') return `'${e.name}'`;
  const name = (e as { options?: { name?: string } })?.options?.name;
  return name ? `'${name}'` : String(e);
}
