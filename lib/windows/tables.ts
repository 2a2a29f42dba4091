import type { EntityManager, EntityMetadata } from 'typeorm';

/** A TypeORM relation (from the package root: deep typeorm paths have no types under every module resolution). */
export type RelationMetadata = EntityMetadata['relations'][number];
import type { Event } from '../event';
import { isPlainObject } from '../util/values';

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

/**
 * A payload turned into a row plus its child rows, as its table's insert wants it: an
 * entity table's row is `values` by property name; a declared table's is `bind`, the values
 * to bind in the order of its INSERT's columns (and an empty `values`).
 */
export interface PreparedRow {
  values: Record<string, unknown>;
  children: { relation: RelationMetadata; rows: PreparedRow[] }[];
  bind?: unknown[];
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
  /**
   * The one INSERT statement (with `?` placeholders) that writes `rows` whole, or undefined
   * when they need more than one statement (children, database-generated keys the children
   * refer to, too many rows for one statement) or the table's columns need TypeORM. A single
   * statement is atomic on its own, so it can run without an explicit transaction.
   */
  insertStatement?(rows: PreparedRow[]): TableStatement | undefined;
  /** Inserts rows one statement per row: the slow path, for benchmarks and isolating bad rows. */
  insertEach(manager: EntityManager, rows: PreparedRow[]): Promise<void>;
  /** Statements deleting rows where `column < cutoff`, children first. */
  deleteBefore(column: string, cutoff: number): TableStatement[];
  /** Statements deleting rows matching a condition (SQL with `?`), children first. */
  deleteWhere(condition: string, values: unknown[]): TableStatement[];
  /** Statements creating the table if it is missing (declared tables only). */
  ddl(): string[];
}

/** A statement with `?` placeholders and its values, as the delete methods return them. */
export interface TableStatement {
  sql: string;
  values: unknown[];
}

/**
 * Rows per multi-row INSERT: bounded by SQLite's 32766 bound variables.
 *
 * @example
 * ```ts
 * chunkSize(6);  // 1000
 * chunkSize(60); // 500
 * ```
 */
export function chunkSize(columns: number): number {
  return Math.max(1, Math.min(1000, Math.floor(30000 / Math.max(1, columns))));
}

/**
 * A payload as a window sees it: JSON text or bytes (a message from a bus, the original's
 * `[]byte` payloads) are parsed; anything else is taken as it is. Text that does not start
 * like JSON (`{` or `[`) stays text; bytes or such text that do not parse are an error.
 *
 * @example
 * ```ts
 * parsedPayload(Buffer.from('{"stake":5}')); // { stake: 5 }
 * parsedPayload('{"stake":5}');              // { stake: 5 }
 * parsedPayload({ stake: 5 });               // the same object
 * ```
 */
export function parsedPayload(payload: unknown): unknown {
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

/**
 * The payload as a record for a row of `table`, or an error saying what it is instead.
 *
 * @example
 * ```ts
 * objectPayload({ stake: 5 }, 'bets'); // { stake: 5 }
 * objectPayload([1], 'bets');          // throws "table 'bets' needs an object payload, got a list"
 * ```
 */
export function objectPayload(payload: unknown, table: string): Record<string, unknown> {
  if (isPlainObject(payload)) return payload;
  throw new Error(
    `table '${table}' needs an object payload, got ${payload === null ? 'null' : Array.isArray(payload) ? 'a list' : typeof payload}`,
  );
}
