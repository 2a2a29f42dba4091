import { TributaryError } from '../errors';

/** The SQL dialects a window store speaks. */
export type Dialect = 'sqlite' | 'mysql' | 'postgres';

/** Values the window binds to named parameters (`:now`, `:window_start`, payload fields …). */
export type SqlParams = Readonly<Record<string, unknown>>;

/** A statement with its named parameters replaced by positional placeholders (`?`, or `$1`, `$2` … on PostgreSQL). */
export interface BoundSql {
  readonly sql: string;
  readonly values: unknown[];
  /** The parameter names, in order of appearance. */
  readonly names: string[];
}

/**
 * Replaces named parameters (`:name`) in SQL by `?` placeholders and collects their values,
 * so one statement runs on SQLite, MySQL and PostgreSQL alike. Quoted strings, quoted
 * identifiers and comments are left alone, as are `::` casts and `:=` assignments. A
 * parameter the statement uses but `params` lacks is an error naming it (and `where`, e.g.
 * the node).
 *
 * For `'postgres'` the placeholders are `$1`, `$2` …, dollar-quoted text is left alone too, and
 * a number that is not compared with something gets a cast (`$1::bigint` for an integer,
 * `$1::double precision` otherwise): PostgreSQL would type a parameter it cannot infer
 * (`select :now as now`, `:now - :duration`) as text, while a compared one takes the type of
 * the other side (`uuid = :x` with a number then finds no row, as on SQLite and MySQL).
 *
 * @example
 * ```ts
 * bindNamed('select * from bets where create_time >= :window_start', { window_start: 1700000000 });
 * // { sql: 'select * from bets where create_time >= ?', values: [1700000000], names: ['window_start'] }
 * bindNamed('select :now as now, :name as name', { now: 17, name: 'x' }, 'query', 'postgres').sql;
 * // 'select $1::bigint as now, $2 as name'
 * ```
 */
export function bindNamed(sql: string, params: SqlParams, where = 'query', dialect: Dialect = 'sqlite'): BoundSql {
  const pg = dialect === 'postgres';
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
    } else if (pg && c === '$' && dollarTag(sql, i) !== undefined) {
      const end = skipDollarQuoted(sql, i);
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
      const value = toSqlValue(params[name], dialect);
      values.push(value);
      names.push(name);
      out += pg ? `$${values.length}${compared(out, sql.slice(j)) ? '' : pgCast(value)}` : '?';
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, values, names };
}

/**
 * Whether a parameter between `before` and `after` is compared with something (`col = ?`,
 * `? < col`, `like ?`, `between ? and ?`, `in (?, ?)`): PostgreSQL then gives it the other
 * side's type, which is what SQLite and MySQL do too (`uuid = :x` with a number finds no row
 * instead of failing on `varchar = bigint`).
 */
function compared(before: string, after: string): boolean {
  return (
    /(=|<|>|\b(like|ilike|between)|\bbetween\s+\S+\s+and|\bin\s*\(([^()]*,)?)\s*$/i.test(before) ||
    /^\s*(=|<|>|!=|(not\s+)?(like|ilike|between|in)\b)/i.test(after)
  );
}

/** The cast a PostgreSQL parameter gets where nothing gives it a type: numbers are typed, the rest is left to inference. */
function pgCast(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '';
  return Number.isSafeInteger(v) ? '::bigint' : '::double precision';
}

/** The tag of a PostgreSQL dollar quote starting at `i` (`$$` → '', `$fn$` → 'fn'), if one does. */
function dollarTag(sql: string, i: number): string | undefined {
  if (i > 0 && /[A-Za-z0-9_$]/.test(sql[i - 1])) return undefined; // `$1`, `a$b`: not a quote
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
  return m ? (m[1] ?? '') : undefined;
}

function skipDollarQuoted(sql: string, start: number): number {
  const tag = `$${dollarTag(sql, start)}$`;
  const end = sql.indexOf(tag, start + tag.length);
  return end === -1 ? sql.length : end + tag.length;
}

/**
 * Rewrites the `?` placeholders of a statement to the dialect's: unchanged for SQLite and
 * MySQL, `$1`, `$2` … for PostgreSQL (quoted text and comments left alone). The window code
 * writes its own statements with `?` and sends them through this.
 *
 * @example
 * ```ts
 * placeholders('postgres', "DELETE FROM t WHERE a < ? AND b = '?'"); // "DELETE FROM t WHERE a < $1 AND b = '?'"
 * placeholders('mysql', 'DELETE FROM t WHERE a < ?');                 // unchanged
 * ```
 */
export function placeholders(dialect: Dialect, sql: string): string {
  if (dialect !== 'postgres' || !sql.includes('?')) return sql;
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length;) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = skipQuoted(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
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
 * Turns a JS value into something every driver binds: objects become JSON text, booleans 0/1
 * (on PostgreSQL they stay booleans: its BOOLEAN columns take `true`/`false`, and compare
 * with no integer).
 *
 * @example
 * ```ts
 * toSqlValue({ a: 1 }); // '{"a":1}'
 * toSqlValue(true);     // 1
 * toSqlValue(true, 'postgres'); // true
 * toSqlValue(undefined); // null
 * ```
 */
export function toSqlValue(v: unknown, dialect: Dialect = 'sqlite'): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return dialect === 'postgres' ? v : v ? 1 : 0;
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
 * Quotes an identifier (table or column name) for the dialect: backticks on MySQL, double
 * quotes on SQLite and PostgreSQL.
 *
 * @example
 * ```ts
 * quoteIdent('mysql', 'bets');    // '`bets`'
 * quoteIdent('sqlite', 'bets');   // '"bets"'
 * quoteIdent('postgres', 'bets'); // '"bets"'
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
