import type { EntityManager } from 'typeorm';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { quoteIdent, toSqlValue, type Dialect } from './sql';
import {
  chunkSize,
  objectPayload,
  parsedPayload,
  type ColumnDeclaration,
  type ColumnType,
  type PreparedRow,
  type TableDeclaration,
  type TableStatement,
  type WindowTable,
} from './tables';

/**
 * A table declared by name and typed columns (or schemaless), created with plain SQL. The
 * window store makes these for declared tables (`store.declare`, Lua's `declare_table`).
 *
 * @example
 * ```ts
 * const alerts = store.declare({ name: 'alerts', columns: { customer: 'string', total: 'number' } });
 * alerts.prepare({ customer: 'c1', total: 'x' }, event); // throws "table 'alerts': column 'total' needs a number, got \"x\""
 * ```
 */
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
        throw new TributaryError(
          'BAD_OPTION',
          `table '${name}': column '${col}' has unknown type '${spec.type}' (string, text, integer, number, boolean, json)`,
        );
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
    const parsed = parsedPayload(raw);
    if (this.declaration.schemaless) {
      return {
        values: { event_time: event.meta.time, event_key: event.meta.key ?? null, payload: JSON.stringify(parsed ?? null) },
        children: [],
      };
    }
    const payload = objectPayload(parsed, this.name);
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

  deleteBefore(column: string, cutoff: number): TableStatement[] {
    return this.deleteWhere(`${quoteIdent(this.dialect, column)} < ?`, [cutoff]);
  }

  deleteWhere(condition: string, values: unknown[]): TableStatement[] {
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
    if (!mysql)
      for (const i of indexes) statements.push(`CREATE INDEX IF NOT EXISTS ${q(`${this.name}_${i}_idx`)} ON ${q(this.name)} (${q(i)})`);
    return statements;
  }
}
