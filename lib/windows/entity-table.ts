import { randomUUID } from 'node:crypto';
import type { EntityManager, EntityMetadata } from 'typeorm';

type ColumnMetadata = EntityMetadata['columns'][number];
import type { Event } from '../event';
import { isPlainObject } from '../util/values';
import { runPrepared } from './prepared';
import { placeholders, quoteIdent, type Dialect } from './sql';
import {
  chunkSize,
  objectPayload,
  parsedPayload,
  type PreparedRow,
  type RelationMetadata,
  type TableStatement,
  type WindowTable,
} from './tables';

const NUMERIC = new Set([
  'int',
  'integer',
  'tinyint',
  'smallint',
  'mediumint',
  'bigint',
  'float',
  'double',
  'double precision',
  'real',
  'decimal',
  'numeric',
  'dec',
  'fixed',
  'int2',
  'int4',
  'int8',
  'unsigned big int',
]);

function isNumericColumn(c: ColumnMetadata): boolean {
  if (c.type === Number) return true;
  return typeof c.type === 'string' && NUMERIC.has(c.type.toLowerCase());
}

/**
 * A table described by a TypeORM entity (decorated class or `EntitySchema`), relations
 * included: a payload with a one-to-many list (a bet's `selections`) is inserted with its
 * children. The window store makes these for its entities.
 *
 * @example
 * ```ts
 * const bets = store.table('example_bets'); // an EntityTable for the Bet entity
 * const row = bets.prepare({ uuid: 'b1', stake: 5, create_time: 1700000000, selections: [] }, event);
 * await store.transaction((m) => bets.insert(m, [row]));
 * ```
 */
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
    const payload = objectPayload(skip ? raw : parsedPayload(raw), this.name);
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
          if (v !== undefined && jc.referencedColumn)
            values[r.propertyName] = { ...(values[r.propertyName] as object), [jc.referencedColumn.propertyName]: v };
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
      (c) =>
        typeof c.default === 'function' ||
        c.isCreateDate ||
        c.isUpdateDate ||
        c.isVersion ||
        (c.isGenerated && c.generationStrategy !== 'uuid'),
    );
    this.plain = complex ? null : cols;
    return this.plain;
  }

  private async insertPlain(manager: EntityManager, rows: PreparedRow[]): Promise<void> {
    const size = chunkSize(this.plain!.length);
    for (let i = 0; i < rows.length; i += size) {
      const { sql, values } = this.plainStatement(rows.slice(i, i + size), manager.connection.driver);
      await runPrepared(manager, placeholders(this.dialect, sql), values);
    }
  }

  insertStatement(rows: PreparedRow[]): TableStatement | undefined {
    const cols = this.plainColumns();
    if (!cols || rows.length === 0 || rows.length > chunkSize(cols.length)) return undefined;
    for (const r of rows) if (r.children.some((c) => c.rows.length > 0)) return undefined;
    return this.plainStatement(rows, this.metadata.connection.driver);
  }

  /** The multi-row INSERT of `rows` (plain columns, one chunk). */
  private plainStatement(rows: PreparedRow[], driver: EntityManager['connection']['driver']): TableStatement {
    const cols = this.plain!;
    const q = (s: string) => quoteIdent(this.dialect, s);
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const values: unknown[] = [];
    for (const r of rows) {
      for (const c of cols) {
        let v = c.getEntityValue(r.values);
        if (v === undefined && c.isGenerated && c.generationStrategy === 'uuid') v = r.values[c.propertyName] = randomUUID();
        if (v === undefined) values.push(c.default === undefined ? null : c.default);
        else values.push(driver.preparePersistentValue(v, c));
      }
    }
    const sql = `INSERT INTO ${q(this.name)} (${cols.map((c) => q(c.databaseName)).join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`;
    return { sql, values };
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

  deleteBefore(column: string, cutoff: number): TableStatement[] {
    return this.deleteWhere(`${quoteIdent(this.dialect, column)} < ?`, [cutoff]);
  }

  deleteWhere(condition: string, values: unknown[]): TableStatement[] {
    const q = (s: string) => quoteIdent(this.dialect, s);
    const statements: TableStatement[] = [];
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
