/**
 * What PostgreSQL needs to run the windows' portable SQL and return the same payloads as
 * SQLite and MySQL: result parsers that give numbers instead of the strings `pg` returns for
 * BIGINT and NUMERIC (never losing a digit), and a rewrite of the few portable constructs
 * PostgreSQL lacks (select-list aliases in HAVING, `round(double, n)`, `json_extract`).
 */

/** `pg` type OIDs the store parses itself. */
const INT8 = 20;
const NUMERIC = 1700;
const BOOL = 16;

/**
 * A number for a decimal text when the number prints as the same decimal value, else the
 * text unchanged: `'138.00'` → 138, `'9007199254740993'` → `'9007199254740993'` (past 2^53),
 * `'0.1'` → 0.1, `'NaN'` → `'NaN'`. This is how BIGINT, COUNT and NUMERIC results of
 * PostgreSQL become numbers like on SQLite and MySQL without a silent loss.
 *
 * @example
 * ```ts
 * exactNumber('138.00');               // 138
 * exactNumber('12345678901234567890'); // '12345678901234567890'
 * ```
 */
export function exactNumber(text: string): number | string {
  const n = Number(text);
  if (!Number.isFinite(n) || text.trim() === '') return text;
  return sameDecimal(text, String(n)) ? n : text;
}

/** Whether two decimal texts (optional sign, fraction and exponent) denote the same value. */
function sameDecimal(a: string, b: string): boolean {
  const x = decimalParts(a);
  const y = decimalParts(b);
  return x !== undefined && y !== undefined && x.digits === y.digits && (x.digits === '' || (x.neg === y.neg && x.exp === y.exp));
}

/** Sign, significant digits and the exponent of the first of them; undefined for text that is no decimal. */
function decimalParts(s: string): { neg: boolean; digits: string; exp: number } | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const all = m[2] + (m[3] ?? '');
  const lead = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(lead).replace(/0+$/, '');
  return { neg: m[1] === '-', digits, exp: m[2].length - lead + Number(m[4] ?? 0) };
}

/** The parts of `pg`'s type registry a client's `types` option needs. */
interface PgTypes {
  getTypeParser(oid: number, format?: string): (value: string) => unknown;
}

/**
 * Result parsers for the store's `pg` pool (its `types` option, so other `pg` users in the
 * process keep theirs): BIGINT (`count(*)`, `sum(int)`) and NUMERIC (`sum(bigint)`,
 * `avg(int)`, DECIMAL columns) become numbers when exact, as mysql2 gives them with
 * `supportBigNumbers`; booleans (a BOOLEAN column, `x > 5` in a select list) become 1/0 as on
 * SQLite and MySQL. Everything else is `pg`'s own parsing.
 *
 * @example
 * ```ts
 * new DataSource({ type: 'postgres', url, extra: { types: pgResultTypes(require('pg').types) } });
 * ```
 */
export function pgResultTypes(base: PgTypes): PgTypes {
  return {
    getTypeParser(oid: number, format?: string) {
      if (format === 'binary') return base.getTypeParser(oid, format);
      if (oid === INT8 || oid === NUMERIC) return exactNumber;
      if (oid === BOOL) return (v: string) => (v === 't' || v === 'true' ? 1 : 0);
      return base.getTypeParser(oid, format);
    },
  };
}

// ---------------------------------------------------------------------------------------
// The rewrite of portable SQL for PostgreSQL

type PieceType = 'word' | 'ident' | 'string' | 'number' | 'space' | 'punct' | 'group';

/** A token of SQL text, or a parenthesized group of them. */
interface Piece {
  type: PieceType;
  text: string;
  /** A group's content, without its parentheses. */
  items?: Piece[];
}

/** What {@link pgPortableSql} made of a statement. */
export interface PgRewrite {
  /** The statement for PostgreSQL. */
  sql: string;
  /**
   * Result column names to rename, mapped to the name SQLite and MySQL give: an unquoted
   * alias PostgreSQL folds (`as totalStake` comes back as `totalstake`), and the placeholder
   * alias of an unaliased expression (`count(*)`).
   */
  names: Map<string, string>;
}

const KEYWORDS = new Set([
  'all',
  'and',
  'as',
  'asc',
  'between',
  'case',
  'desc',
  'distinct',
  'else',
  'end',
  'false',
  'from',
  'in',
  'is',
  'like',
  'not',
  'null',
  'or',
  'then',
  'true',
  'when',
]);

/**
 * Rewrites a statement written for SQLite and MySQL so PostgreSQL runs it with the same
 * meaning; anything else is left as written:
 *
 * - a select-list alias used in `HAVING` (`having liability > 130`) is replaced by its
 *   expression: PostgreSQL resolves HAVING against the input columns only;
 * - `round(x, n)` is computed over NUMERIC and returned as a double (`round(double, int)`
 *   does not exist in PostgreSQL; MySQL's round of a double is a double);
 * - `json_extract(doc, '$.path')` becomes `jsonb_path_query_first(doc::jsonb, '$.path')`,
 *   whose JSON result `pg` returns as the number, text or object SQLite and MySQL give;
 * - unquoted select-list aliases with capitals are reported in `names`, since PostgreSQL
 *   returns them folded to lower case;
 * - an unaliased expression of the outer select list (`count(*)`) gets a placeholder alias
 *   reported in `names` with its text, the name SQLite and MySQL give it (PostgreSQL would
 *   name it `count`).
 *
 * Named parameters (`:window_start`) pass through; bind them afterwards.
 *
 * @example
 * ```ts
 * pgPortableSql('select c, round(sum(x), 2) as total from t group by c having total > 130').sql;
 * // 'select c, (round((sum(x))::numeric, 2)::double precision) as total from t group by c having ((round((sum(x))::numeric, 2)::double precision)) > 130'
 * ```
 */
export function pgPortableSql(sql: string): PgRewrite {
  const pieces = parse(tokenize(sql));
  const names = new Map<string, string>();
  const top = selectItems(pieces);
  let unnamed = 0;
  for (const item of top ?? []) {
    if (item.alias) {
      if (!item.alias.quoted && item.alias.name !== item.alias.name.toLowerCase())
        names.set(item.alias.name.toLowerCase(), item.alias.name);
      continue;
    }
    const s = solid(item.expr);
    const last = s[s.length - 1];
    if (!last) continue;
    // A column (`n`, `b.n`) is named by the column, as on SQLite; `*` and a lone string are left alone.
    const column = s.every((p, i) => (i % 2 === 0 ? p.type === 'word' || p.type === 'ident' : p.type === 'punct' && p.text === '.'));
    const literal = s.length === 1 && s[0].type === 'string';
    if (column || literal || (last.type === 'punct' && last.text === '*')) continue;
    // An expression is named by its text, as SQLite and MySQL name it (PostgreSQL would say `count`).
    const key = `__tb_expr_${++unnamed}`;
    pieces.splice(pieces.indexOf(last) + 1, 0, { type: 'punct', text: ` AS "${key}"` });
    names.set(key, render(item.expr));
  }
  havingAliases(pieces);
  functions(pieces);
  return { sql: render(pieces), names };
}

function tokenize(sql: string): Piece[] {
  const out: Piece[] = [];
  let i = 0;
  const n = sql.length;
  const take = (type: PieceType, end: number) => {
    out.push({ type, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i];
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if (c === "'" || c === '`') take('string', quoteEnd(sql, i, c));
    else if (c === '"') take('ident', quoteEnd(sql, i, c));
    else if (c === '-' && sql[i + 1] === '-') take('space', sql.indexOf('\n', i) === -1 ? n : sql.indexOf('\n', i));
    else if (c === '/' && sql[i + 1] === '*') take('space', sql.indexOf('*/', i + 2) === -1 ? n : sql.indexOf('*/', i + 2) + 2);
    else if ((m = /^\s+/.exec(rest))) take('space', i + m[0].length);
    else if ((m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest)) && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? '')) {
      const close = sql.indexOf(m[0], i + m[0].length);
      take('string', close === -1 ? n : close + m[0].length);
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest))) take('word', i + m[0].length);
    else if ((m = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest))) take('number', i + m[0].length);
    else take('punct', i + 1);
  }
  return out;
}

function quoteEnd(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '\\' && quote === "'") i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** Nests the tokens by parentheses (an unbalanced `)` stays a plain token). */
function parse(tokens: Piece[]): Piece[] {
  const root: Piece[] = [];
  const stack: Piece[][] = [root];
  for (const t of tokens) {
    const level = stack[stack.length - 1];
    if (t.type === 'punct' && t.text === '(') {
      const group: Piece = { type: 'group', text: '', items: [] };
      level.push(group);
      stack.push(group.items!);
    } else if (t.type === 'punct' && t.text === ')' && stack.length > 1) stack.pop();
    else level.push(t);
  }
  return root;
}

function render(pieces: Piece[]): string {
  return pieces.map((p) => (p.type === 'group' ? `(${render(p.items!)})` : p.text)).join('');
}

const isWord = (p: Piece | undefined, ...words: string[]) => p?.type === 'word' && words.includes(p.text.toLowerCase());
const solid = (pieces: Piece[]) => pieces.filter((p) => p.type !== 'space');

/** The pieces without leading and trailing white space. */
function trim(pieces: Piece[]): Piece[] {
  let a = 0;
  let b = pieces.length;
  while (a < b && pieces[a].type === 'space') a++;
  while (b > a && pieces[b - 1].type === 'space') b--;
  return pieces.slice(a, b);
}

/** Splits a level at its commas. */
function splitCommas(pieces: Piece[]): Piece[][] {
  const parts: Piece[][] = [[]];
  for (const p of pieces) {
    if (p.type === 'punct' && p.text === ',') parts.push([]);
    else parts[parts.length - 1].push(p);
  }
  return parts;
}

interface SelectItem {
  expr: Piece[];
  alias?: { name: string; quoted: boolean };
}

/** The select-list items of the first SELECT of a query level, or undefined when the level is no query. */
function selectItems(level: Piece[]): SelectItem[] | undefined {
  const start = level.findIndex((p) => isWord(p, 'select'));
  if (start < 0 || solid(level.slice(0, start)).some((p) => !isWord(p, 'with') && p.type !== 'group' && p.type !== 'word')) {
    return undefined;
  }
  let end = level.findIndex((p, i) => i > start && isWord(p, 'from', 'where', 'group', 'having', 'order', 'limit', 'union', 'into'));
  if (end < 0) end = level.length;
  let list = level.slice(start + 1, end);
  const first = list.findIndex((p) => p.type !== 'space');
  if (isWord(list[first], 'distinct', 'all')) list = list.slice(first + 1);
  return splitCommas(list).map((item) => {
    const s = solid(item);
    const last = s[s.length - 1];
    const before = s[s.length - 2];
    const aliasLike = last && (last.type === 'ident' || (last.type === 'word' && !KEYWORDS.has(last.text.toLowerCase())));
    const explicit = aliasLike && isWord(before, 'as');
    const implicit =
      aliasLike &&
      before !== undefined &&
      (before.type === 'group' ||
        before.type === 'ident' ||
        before.type === 'string' ||
        before.type === 'number' ||
        (before.type === 'word' && (!KEYWORDS.has(before.text.toLowerCase()) || isWord(before, 'end'))));
    if (!explicit && !implicit) return { expr: trim(item) };
    const cut = item.lastIndexOf(explicit ? before : last);
    const quoted = last.type === 'ident';
    return { expr: trim(item.slice(0, cut)), alias: { name: quoted ? last.text.slice(1, -1).replace(/""/g, '"') : last.text, quoted } };
  });
}

/** Replaces select-list aliases in the HAVING clauses of every query level by their expressions. */
function havingAliases(level: Piece[]): void {
  const items = selectItems(level);
  if (items) {
    const aliases = new Map<string, Piece[]>();
    for (const it of items) if (it.alias) aliases.set(it.alias.quoted ? `"${it.alias.name}` : it.alias.name.toLowerCase(), it.expr);
    // A name that is also a GROUP BY column means the column, as MySQL decides it.
    for (const name of groupByColumns(level)) aliases.delete(name);
    let inHaving = false;
    for (let i = 0; i < level.length; i++) {
      const p = level[i];
      if (isWord(p, 'having')) inHaving = true;
      else if (isWord(p, 'order', 'limit', 'offset', 'window', 'fetch', 'union', 'intersect', 'except', 'select')) inHaving = false;
      else if (inHaving && aliases.size > 0) substitute(level, i, aliases);
    }
  }
  for (const p of level) forEachQuery(p, havingAliases);
}

/** The plain column names (`k`, `"K"`, not `b.k` or expressions) of a query level's GROUP BY. */
function groupByColumns(level: Piece[]): string[] {
  const start = level.findIndex((p, i) => isWord(p, 'group') && isWord(solid(level.slice(i + 1))[0], 'by'));
  if (start < 0) return [];
  const by = level.indexOf(solid(level.slice(start + 1))[0]);
  let end = level.findIndex((p, i) => i > by && isWord(p, 'having', 'order', 'limit', 'offset', 'window', 'union', 'intersect', 'except'));
  if (end < 0) end = level.length;
  return splitCommas(level.slice(by + 1, end)).flatMap((item) => {
    const s = solid(item);
    if (s.length !== 1) return [];
    if (s[0].type === 'word') return [s[0].text.toLowerCase()];
    if (s[0].type === 'ident') return [`"${s[0].text.slice(1, -1).replace(/""/g, '"')}`];
    return [];
  });
}

/** Calls `fn` for the query levels nested in a piece (subqueries, also inside function calls). */
function forEachQuery(p: Piece, fn: (level: Piece[]) => void): void {
  if (p.type !== 'group') return;
  if (selectItems(p.items!)) fn(p.items!);
  else for (const q of p.items!) forEachQuery(q, fn);
}

/** Substitutes alias references at `level[i]`, descending into groups that are not subqueries. */
function substitute(level: Piece[], i: number, aliases: Map<string, Piece[]>): void {
  const p = level[i];
  if (p.type === 'group') {
    if (selectItems(p.items!)) return;
    for (let j = 0; j < p.items!.length; j++) substitute(p.items!, j, aliases);
    return;
  }
  const key = p.type === 'ident' ? `"${p.text.slice(1, -1).replace(/""/g, '"')}` : p.type === 'word' ? p.text.toLowerCase() : undefined;
  const expr = key === undefined ? undefined : aliases.get(key);
  if (!expr) return;
  const prev = solid(level.slice(0, i)).pop();
  const next = solid(level.slice(i + 1))[0];
  if (
    (prev?.type === 'punct' && (prev.text === '.' || prev.text === ':')) ||
    next?.type === 'group' ||
    (next?.type === 'punct' && next.text === '.')
  ) {
    return;
  }
  level[i] = { type: 'group', text: '', items: clone(expr) };
}

function clone(pieces: Piece[]): Piece[] {
  return pieces.map((p) => ({ ...p, ...(p.items ? { items: clone(p.items) } : {}) }));
}

/** Rewrites `round(x, n)` and `json_extract(doc, path)` calls, innermost first. */
function functions(level: Piece[]): void {
  for (const p of level) if (p.type === 'group') functions(p.items!);
  for (let i = 0; i < level.length; i++) {
    const name = level[i];
    if (name.type !== 'word') continue;
    const fn = name.text.toLowerCase();
    if (fn !== 'round' && fn !== 'json_extract') continue;
    const prev = solid(level.slice(0, i)).pop();
    if (prev?.type === 'punct' && prev.text === '.') continue;
    let j = i + 1;
    while (level[j]?.type === 'space') j++;
    const call = level[j];
    if (call?.type !== 'group') continue;
    const args = splitCommas(call.items!).map(render);
    if (args.length !== 2) continue;
    const text =
      fn === 'round'
        ? `(round((${args[0].trim()})::numeric, ${args[1].trim()})::double precision)`
        : `jsonb_path_query_first((${args[0].trim()})::jsonb, (${args[1].trim()})::jsonpath)`;
    level.splice(i, j - i + 1, { type: 'punct', text });
  }
}
