import { TributaryError } from '../errors';

/** The SQL dialects a window store speaks. */
export type Dialect = 'sqlite' | 'mysql';

/** Values the window binds to named parameters (`:now`, `:window_start`, payload fields …). */
export type SqlParams = Readonly<Record<string, unknown>>;

/** A statement with its named parameters replaced by positional `?` placeholders. */
export interface BoundSql {
  readonly sql: string;
  readonly values: unknown[];
  /** The parameter names, in order of appearance. */
  readonly names: string[];
}

/**
 * Replaces named parameters (`:name`) in SQL by `?` placeholders and collects their values,
 * so one statement runs on SQLite and MySQL alike. Quoted strings, quoted identifiers and
 * comments are left alone, as are `::` casts and `:=` assignments. A parameter the statement
 * uses but `params` lacks is an error naming it (and `where`, e.g. the node).
 *
 * @example
 * ```ts
 * bindNamed('select * from bets where create_time >= :window_start', { window_start: 1700000000 });
 * // { sql: 'select * from bets where create_time >= ?', values: [1700000000], names: ['window_start'] }
 * ```
 */
export function bindNamed(sql: string, params: SqlParams, where = 'query'): BoundSql {
  let out = '';
  const values: unknown[] = [];
  const names: string[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === ':' && sql[i + 1] !== ':' && sql[i - 1] !== ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      if (!(name in params) || params[name] === undefined) {
        const known = Object.keys(params).filter((k) => params[k] !== undefined);
        throw new TributaryError(
          'BAD_OPTION',
          `${where}: SQL parameter ':${name}' has no value (bound here: ${known.map((k) => ':' + k).join(', ') || 'none'})`,
        );
      }
      out += '?';
      values.push(toSqlValue(params[name]));
      names.push(name);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, values, names };
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/**
 * Turns a JS value into something both drivers bind: objects become JSON text, booleans 0/1.
 *
 * @example
 * ```ts
 * toSqlValue({ a: 1 }); // '{"a":1}'
 * toSqlValue(true);     // 1
 * toSqlValue(undefined); // null
 * ```
 */
export function toSqlValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date || v instanceof Uint8Array || v === null) return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

/**
 * Makes a result row JSON-friendly: bytes become text (as the original did), BigInts become
 * numbers when they fit.
 *
 * @example
 * ```ts
 * normalizeRow({ n: 3n, b: Buffer.from('x') }); // { n: 3, b: 'x' }
 * ```
 */
export function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (v instanceof Uint8Array) out[k] = Buffer.from(v).toString('utf8');
    else if (typeof v === 'bigint') out[k] = Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    else out[k] = v;
  }
  return out;
}

/**
 * Quotes an identifier (table or column name) for the dialect.
 *
 * @example
 * ```ts
 * quoteIdent('mysql', 'bets');  // '`bets`'
 * quoteIdent('sqlite', 'bets'); // '"bets"'
 * ```
 */
export function quoteIdent(dialect: Dialect, name: string): string {
  if (dialect === 'mysql') return '`' + name.replace(/`/g, '``') + '`';
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Time column units: Unix seconds (the original's `create_time`) or milliseconds. */
export type TimeUnit = 's' | 'ms';

/**
 * Converts scheduler milliseconds to the unit of a time column.
 *
 * @example
 * ```ts
 * toUnit(1_700_000_000_500, 's');  // 1700000000 (whole seconds, rounded down)
 * toUnit(1_700_000_000_500, 'ms'); // 1700000000500
 * ```
 */
export function toUnit(ms: number, unit: TimeUnit): number {
  return unit === 's' ? Math.floor(ms / 1000) : Math.floor(ms);
}
