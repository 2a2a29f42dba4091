import { randomUUID } from 'node:crypto';
import type { EntityManager, EntityMetadata } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { RelationMetadata } from 'typeorm/metadata/RelationMetadata';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { quoteIdent, toSqlValue, type Dialect } from './sql';

/** Column types a declared table can use (`declare_table` in Lua, `tables` in the store options). */
export type ColumnType = 'string' | 'text' | 'integer' | 'number' | 'boolean' | 'json';

/** One column of a declared table: a type, or a type with details. */
export type ColumnDeclaration = ColumnType | { type: ColumnType; nullable?: boolean; primary?: boolean; index?: boolean };

/**
 * A table for users without TypeScript entities: a name and typed columns, or
 * `schemaless: true` for a table that keeps each payload as JSON beside its event time (ms)
 * and key (columns `id`, `event_time`, `event_key`, `payload`).
 *
 * @example
 * ```ts
 * const tables: TableDeclaration[] = [
 *   { name: 'bets', columns: { uuid: 'string', customer_uuid: 'string', stake: 'number', create_time: 'integer' }, index: ['create_time'] },
 *   { name: 'raw_events', schemaless: true },
 * ];
 * ```
 */
export interface TableDeclaration {
  name: string;
  columns?: Record<string, ColumnDeclaration>;
  /** Keep the payload as JSON instead of typed columns. */
  schemaless?: boolean;
  /** Columns to index (the time column of a sliding window is a good one). */
  index?: string[];
}

/** A payload turned into a row (property names of the table) plus its child rows. */
export interface PreparedRow {
  values: Record<string, unknown>;
  children: { relation: RelationMetadata; rows: PreparedRow[] }[];
}

/** What the windows need of a table, whether it comes from an entity or a declaration. */
export interface WindowTable {
  /** The table's name in the database. */
  readonly name: string;
  /** Database column names. */
  readonly columns: readonly string[];
  /** The auto-generated or primary column, the default order of a count window. */
  readonly orderColumn?: string;
  /**
   * Turns a payload into a row, or throws an error saying what is wrong with it. `time`
   * fills a time column the payload leaves out.
   */
  prepare(payload: unknown, event: Event, time?: { column: string; value: number }): PreparedRow;
  /** Inserts prepared rows (and their children) with as few statements as possible. */
  insert(manager: EntityManager, rows: PreparedRow[]): Promise<void>;
  /** Inserts rows one statement per row: the slow path, for benchmarks and isolating bad rows. */
  insertEach(manager: EntityManager, rows: PreparedRow[]): Promise<void>;
  /** Statements deleting rows where `column < cutoff`, children first. */
  deleteBefore(column: string, cutoff: number): { sql: string; values: unknown[] }[];
  /** Statements deleting rows matching a condition (SQL with `?`), children first. */
  deleteWhere(condition: string, values: unknown[]): { sql: string; values: unknown[] }[];
  /** Statements creating the table if it is missing (declared tables only). */
  ddl(): string[];
}

const NUMERIC = new Set([
  'int', 'integer', 'tinyint', 'smallint', 'mediumint', 'bigint', 'float', 'double', 'double precision', 'real',
  'decimal', 'numeric', 'dec', 'fixed', 'int2', 'int4', 'int8', 'unsigned big int',
]);

/** Rows per multi-row INSERT: bounded by SQLite's 32766 bound variables. */
function chunkSize(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30000 / Math.max(1, columns))));
}

/**
 * A payload as a window sees it: JSON text or bytes (a message from a bus, the original's
 * `[]byte` payloads) are parsed; anything else is taken as it is.
 *
 * @example
 * ```ts
 * decodePayload(Buffer.from('{"stake":5}')); // { stake: 5 }
 * decodePayload('{"stake":5}');              // { stake: 5 }
 * decodePayload({ stake: 5 });               // the same object
 * ```
 */
export function decodePayload(payload: unknown): unknown {
  let text: string | undefined;
  if (payload instanceof Uint8Array) text = Buffer.from(payload).toString('utf8');
  else if (typeof payload === 'string' && /^\s*[[{]/.test(payload)) text = payload;
  if (text === undefined) return payload;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`payload is not JSON: ${(e as Error).message}`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isNumericColumn(c: ColumnMetadata): boolean {
  if (c.type === Number) return true;
  return typeof c.type === 'string' && NUMERIC.has(c.type.toLowerCase());
}

/** A table described by a TypeORM entity (decorated class or `EntitySchema`), relations included. */
export class EntityTable implements WindowTable {
  readonly name: string;
  readonly columns: readonly string[];
  readonly orderColumn?: string;
  private children?: { relation: RelationMetadata; table: EntityTable }[];

  constructor(
    readonly metadata: EntityMetadata,
    private readonly dialect: Dialect,
    private readonly lookup: (m: EntityMetadata) => EntityTable,
  ) {
    this.name = metadata.tableName;
    this.columns = metadata.columns.map((c) => c.databaseName);
    const generated = metadata.columns.find((c) => c.isGenerated && c.generationStrategy === 'increment');
    this.orderColumn = (generated ?? metadata.primaryColumns[0])?.databaseName;
  }

  private relations(): { relation: RelationMetadata; table: EntityTable }[] {
    this.children ??= this.metadata.oneToManyRelations
      .filter((r) => r.inverseRelation && r.inverseRelation.joinColumns.length > 0)
      .map((relation) => ({ relation, table: this.lookup(relation.inverseEntityMetadata) }));
    return this.children;
  }

  prepare(raw: unknown, event: Event, time?: { column: string; value: number }, skip?: RelationMetadata): PreparedRow {
    const payload = skip ? raw : decodePayload(raw);
    if (!isPlainObject(payload)) {
      throw new Error(`table '${this.name}' needs an object payload, got ${payload === null ? 'null' : Array.isArray(payload) ? 'a list' : typeof payload}`);
    }
    const values: Record<string, unknown> = {};
    for (const c of this.metadata.columns) {
      if (c.relationMetadata) continue;
      let v = payload[c.propertyName];
      if (v === undefined && c.databaseName !== c.propertyName) v = payload[c.databaseName];
      if (v === undefined && time && c.databaseName === time.column) v = time.value;
      if (v === undefined || v === null) {
        const optional = c.isNullable || c.isGenerated || c.default !== undefined || c.isCreateDate || c.isUpdateDate || c.isVersion;
        if (!optional) throw new Error(`table '${this.name}': column '${c.databaseName}' is missing`);
        continue;
      }
      if (isNumericColumn(c) && typeof v !== 'number' && !(typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))) {
        throw new Error(`table '${this.name}': column '${c.databaseName}' needs a number, got ${JSON.stringify(v)}`);
      }
      values[c.propertyName] = v;
    }
    // Many-to-one relations given inline ({ bet: { uuid } }) or by join column name.
    for (const r of this.metadata.manyToOneRelations) {
      if (r === skip) continue;
      const inline = payload[r.propertyName];
      if (isPlainObject(inline)) values[r.propertyName] = inline;
      else {
        for (const jc of r.joinColumns) {
          const v = payload[jc.databaseName];
          if (v !== undefined && jc.referencedColumn) values[r.propertyName] = { ...(values[r.propertyName] as object), [jc.referencedColumn.propertyName]: v };
        }
      }
    }
    const children: PreparedRow['children'] = [];
    for (const { relation, table } of this.relations()) {
      const list = payload[relation.propertyName];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) throw new Error(`table '${this.name}': '${relation.propertyName}' must be a list`);
      children.push({ relation, rows: list.map((item) => table.prepare(item, event, undefined, relation.inverseRelation)) });
    }
    return { values, children };
  }

  async insert(manager: EntityManager, rows: PreparedRow[]): Promise<void> {
    if (rows.length === 0) return;
    const needIds = this.assignKeys(rows);
    if (needIds) {
      // Generated integer keys that children refer to: insert parents one by one to learn them.
      await this.insertEach(manager, rows, false);
    } else if (this.plainColumns()) {
      await this.insertPlain(manager, rows);
    } else {
      const size = chunkSize(this.columns.length);
      for (let i = 0; i < rows.length; i += size) {
        await manager
          .createQueryBuilder()
          .insert()
          .into(this.metadata.target)
          .values(rows.slice(i, i + size).map((r) => r.values))
          .updateEntity(false)
          .callListeners(false)
          .execute();
      }
    }
    await this.insertChildren(manager, rows, (t, m, r) => t.insert(m, r));
  }

  private plain?: ColumnMetadata[] | null;

  /**
   * The columns of a multi-row INSERT written without TypeORM's query builder (which costs
   * more than the database on small rows), or null when a column needs the builder: a
   * function default, create/update dates, versions.
   */
  private plainColumns(): ColumnMetadata[] | null {
    if (this.plain !== undefined) return this.plain;
    const cols = this.metadata.columns.filter((c) => c.isInsert && !(c.isGenerated && c.generationStrategy === 'increment'));
    const complex = cols.some(
      (c) => typeof c.default === 'function' || c.isCreateDate || c.isUpdateDate || c.isVersion || (c.isGenerated && c.generationStrategy !== 'uuid'),
    );
    this.plain = complex ? null : cols;
    return this.plain;
  }

  private async insertPlain(manager: EntityManager, rows: PreparedRow[]): Promise<void> {
    const cols = this.plain!;
    const driver = manager.connection.driver;
    const q = (s: string) => quoteIdent(this.dialect, s);
    const head = `INSERT INTO ${q(this.name)} (${cols.map((c) => q(c.databaseName)).join(', ')}) VALUES `;
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const size = chunkSize(cols.length);
    for (let i = 0; i < rows.length; i += size) {
      const chunk = rows.slice(i, i + size);
      const values: unknown[] = [];
      for (const r of chunk) {
        for (const c of cols) {
          let v = c.getEntityValue(r.values);
          if (v === undefined && c.isGenerated && c.generationStrategy === 'uuid') v = r.values[c.propertyName] = randomUUID();
          if (v === undefined) values.push(c.default === undefined ? null : c.default);
          else values.push(driver.preparePersistentValue(v, c));
        }
      }
      await manager.query(head + chunk.map(() => tuple).join(', '), values);
    }
  }

  async insertEach(manager: EntityManager, rows: PreparedRow[], withChildren = true): Promise<void> {
    this.assignKeys(rows);
    for (const r of rows) {
      const result = await manager
        .createQueryBuilder()
        .insert()
        .into(this.metadata.target)
        .values(r.values)
        .updateEntity(false)
        .callListeners(false)
        .execute();
      const id = result.identifiers[0] ?? {};
      for (const c of this.metadata.primaryColumns) {
        if (r.values[c.propertyName] === undefined && id[c.propertyName] !== undefined) r.values[c.propertyName] = id[c.propertyName];
      }
      const insertId = (result.raw as { insertId?: number })?.insertId ?? (typeof result.raw === 'number' ? result.raw : undefined);
      const gen = this.metadata.columns.find((c) => c.isGenerated && c.generationStrategy === 'increment');
      if (gen && r.values[gen.propertyName] === undefined && insertId !== undefined) r.values[gen.propertyName] = insertId;
    }
    if (withChildren) await this.insertChildren(manager, rows, (t, m, rs) => t.insertEach(m, rs));
  }

  /** Fills keys children refer to; true if some must come from the database. */
  private assignKeys(rows: PreparedRow[]): boolean {
    let needIds = false;
    for (const { relation } of this.relations()) {
      for (const jc of relation.inverseRelation!.joinColumns) {
        const ref = jc.referencedColumn!;
        for (const r of rows) {
          if (r.values[ref.propertyName] !== undefined || !r.children.some((c) => c.relation === relation && c.rows.length > 0)) continue;
          if (ref.generationStrategy === 'uuid') r.values[ref.propertyName] = randomUUID();
          else needIds = true;
        }
      }
    }
    return needIds;
  }

  private async insertChildren(
    manager: EntityManager,
    rows: PreparedRow[],
    insert: (t: EntityTable, m: EntityManager, rows: PreparedRow[]) => Promise<void>,
  ): Promise<void> {
    for (const { relation, table } of this.relations()) {
      const inverse = relation.inverseRelation!;
      const childRows: PreparedRow[] = [];
      for (const r of rows) {
        for (const c of r.children) {
          if (c.relation !== relation) continue;
          const ref: Record<string, unknown> = {};
          for (const jc of inverse.joinColumns) ref[jc.referencedColumn!.propertyName] = r.values[jc.referencedColumn!.propertyName];
          for (const child of c.rows) {
            child.values[inverse.propertyName] = ref;
            childRows.push(child);
          }
        }
      }
      if (childRows.length > 0) await insert(table, manager, childRows);
    }
  }

  deleteBefore(column: string, cutoff: number): { sql: string; values: unknown[] }[] {
    return this.deleteWhere(`${quoteIdent(this.dialect, column)} < ?`, [cutoff]);
  }

  deleteWhere(condition: string, values: unknown[]): { sql: string; values: unknown[] }[] {
    const q = (s: string) => quoteIdent(this.dialect, s);
    const statements: { sql: string; values: unknown[] }[] = [];
    // Children first (grandchildren before them), so no orphans stay without ON DELETE CASCADE.
    for (const { relation, table } of this.relations()) {
      const jc = relation.inverseRelation!.joinColumns[0];
      const sub = `${q(jc.databaseName)} IN (SELECT ${q(jc.referencedColumn!.databaseName)} FROM ${q(this.name)} WHERE ${condition})`;
      statements.push(...table.deleteWhere(sub, values));
    }
    statements.push({ sql: `DELETE FROM ${q(this.name)} WHERE ${condition}`, values });
    return statements;
  }

  ddl(): string[] {
    return [];
  }
}

/** A table declared by name and typed columns (or schemaless), created with plain SQL. */
export class DeclaredTable implements WindowTable {
  readonly name: string;
  readonly columns: readonly string[];
  readonly orderColumn: string;
  private readonly types: Map<string, { type: ColumnType; nullable: boolean }>;
  private readonly autoId: boolean;

  constructor(
    readonly declaration: TableDeclaration,
    private readonly dialect: Dialect,
  ) {
    const { name } = declaration;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TributaryError('BAD_OPTION', `table name '${name}' must be letters, digits and underscores`);
    }
    this.name = name;
    let cols: Record<string, ColumnDeclaration>;
    if (declaration.schemaless) {
      if (declaration.columns) throw new TributaryError('BAD_OPTION', `table '${name}': a schemaless table takes no columns`);
      cols = { event_time: 'integer', event_key: { type: 'string', nullable: true }, payload: 'json' };
    } else {
      if (!declaration.columns || Object.keys(declaration.columns).length === 0) {
        throw new TributaryError('BAD_OPTION', `table '${name}': declare its columns or make it schemaless`);
      }
      cols = declaration.columns;
    }
    this.types = new Map();
    let primary: string | undefined;
    for (const [col, d] of Object.entries(cols)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(col)) throw new TributaryError('BAD_OPTION', `table '${name}': bad column name '${col}'`);
      const spec = typeof d === 'string' ? { type: d } : d;
      if (!['string', 'text', 'integer', 'number', 'boolean', 'json'].includes(spec.type)) {
        throw new TributaryError('BAD_OPTION', `table '${name}': column '${col}' has unknown type '${spec.type}' (string, text, integer, number, boolean, json)`);
      }
      if ('primary' in spec && spec.primary) primary = col;
      this.types.set(col, { type: spec.type, nullable: Boolean('nullable' in spec && spec.nullable) });
    }
    this.autoId = primary === undefined && !this.types.has('id');
    this.orderColumn = primary ?? 'id';
    this.columns = [...(this.autoId ? ['id'] : []), ...this.types.keys()];
    for (const i of declaration.index ?? []) {
      if (!this.columns.includes(i)) throw new TributaryError('BAD_OPTION', `table '${name}': index on unknown column '${i}'`);
    }
  }

  prepare(raw: unknown, event: Event, time?: { column: string; value: number }): PreparedRow {
    const payload = decodePayload(raw);
    if (this.declaration.schemaless) {
      return { values: { event_time: event.meta.time, event_key: event.meta.key ?? null, payload: JSON.stringify(payload ?? null) }, children: [] };
    }
    if (!isPlainObject(payload)) {
      throw new Error(`table '${this.name}' needs an object payload, got ${payload === null ? 'null' : Array.isArray(payload) ? 'a list' : typeof payload}`);
    }
    const values: Record<string, unknown> = {};
    for (const [col, { type, nullable }] of this.types) {
      let v = payload[col];
      if (v === undefined && time?.column === col) v = time.value;
      if (v === undefined || v === null) {
        if (!nullable) throw new Error(`table '${this.name}': column '${col}' is missing`);
        values[col] = null;
        continue;
      }
      values[col] = this.convert(col, type, v);
    }
    return { values, children: [] };
  }

  private convert(col: string, type: ColumnType, v: unknown): unknown {
    const bad = (what: string) => new Error(`table '${this.name}': column '${col}' needs ${what}, got ${JSON.stringify(v)}`);
    switch (type) {
      case 'integer':
      case 'number': {
        const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
        if (!Number.isFinite(n)) throw bad('a number');
        if (type === 'integer' && !Number.isInteger(n)) throw bad('an integer');
        return n;
      }
      case 'boolean':
        if (typeof v !== 'boolean') throw bad('a boolean');
        return v ? 1 : 0;
      case 'json':
        return JSON.stringify(v);
      default:
        if (typeof v === 'object') throw bad('text');
        return String(v);
    }
  }

  async insert(manager: EntityManager, rows: PreparedRow[]): Promise<void> {
    const cols = [...this.types.keys()];
    const q = (s: string) => quoteIdent(this.dialect, s);
    const head = `INSERT INTO ${q(this.name)} (${cols.map(q).join(', ')}) VALUES `;
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const size = chunkSize(cols.length);
    for (let i = 0; i < rows.length; i += size) {
      const chunk = rows.slice(i, i + size);
      const values: unknown[] = [];
      for (const r of chunk) for (const c of cols) values.push(toSqlValue(r.values[c]));
      await manager.query(head + chunk.map(() => tuple).join(', '), values);
    }
  }

  async insertEach(manager: EntityManager, rows: PreparedRow[]): Promise<void> {
    for (const r of rows) await this.insert(manager, [r]);
  }

  deleteBefore(column: string, cutoff: number): { sql: string; values: unknown[] }[] {
    return this.deleteWhere(`${quoteIdent(this.dialect, column)} < ?`, [cutoff]);
  }

  deleteWhere(condition: string, values: unknown[]): { sql: string; values: unknown[] }[] {
    return [{ sql: `DELETE FROM ${quoteIdent(this.dialect, this.name)} WHERE ${condition}`, values }];
  }

  ddl(): string[] {
    const q = (s: string) => quoteIdent(this.dialect, s);
    const mysql = this.dialect === 'mysql';
    const sqlType: Record<ColumnType, string> = mysql
      ? { string: 'VARCHAR(255)', text: 'LONGTEXT', integer: 'BIGINT', number: 'DOUBLE', boolean: 'TINYINT(1)', json: 'LONGTEXT' }
      : { string: 'TEXT', text: 'TEXT', integer: 'INTEGER', number: 'REAL', boolean: 'INTEGER', json: 'TEXT' };
    const defs: string[] = [];
    if (this.autoId) defs.push(mysql ? '`id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY' : '"id" INTEGER PRIMARY KEY AUTOINCREMENT');
    for (const [col, { type, nullable }] of this.types) {
      const primary = this.orderColumn === col && !this.autoId;
      defs.push(`${q(col)} ${sqlType[type]}${nullable ? '' : ' NOT NULL'}${primary ? ' PRIMARY KEY' : ''}`);
    }
    const indexes = [...(this.declaration.index ?? []), ...(this.declaration.schemaless ? ['event_time'] : [])];
    if (mysql) for (const i of indexes) defs.push(`INDEX ${q(`${this.name}_${i}_idx`)} (${q(i)})`);
    const statements = [`CREATE TABLE IF NOT EXISTS ${q(this.name)} (${defs.join(', ')})`];
    if (!mysql) for (const i of indexes) statements.push(`CREATE INDEX IF NOT EXISTS ${q(`${this.name}_${i}_idx`)} ON ${q(this.name)} (${q(i)})`);
    return statements;
  }
}
