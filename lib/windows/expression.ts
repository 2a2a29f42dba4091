import { TributaryError } from '../errors';

/**
 * A small expression language for aggregate windows, parsed once and evaluated without
 * `eval` or `Function`: numbers, strings (`'x'`), `true`/`false`/`null`, payload paths
 * (`stake`, `item.game_id`, `selections.odds` — a path through a list gives the list of
 * values), `+ - * / %`, comparisons (`= == != <> < <= > >=`), `and`/`or`/`not`, parentheses and
 * the functions below. Nulls behave as in SQL: arithmetic and comparisons with null give null,
 * division by zero gives null.
 *
 * Row functions: `round(x [, digits])`, `abs`, `floor`, `ceil`, `coalesce(a, b, …)`,
 * `if(cond, a, b)`, `min(a, b, …)`/`max(a, b, …)` of values, and over a list: `sum(list)`,
 * `product(list)`, `count(list)`, `avg(list)`, `min(list)`, `max(list)`.
 *
 * Aggregates (only where an aggregate is expected, see {@link parseMeasure}): `sum(e)`,
 * `count()`/`count(*)`/`count(e)`, `avg(e)`, `min(e)`, `max(e)` with `e` a row expression.
 */
export type Expr =
  | { k: 'lit'; v: unknown }
  | { k: 'path'; parts: string[]; text: string }
  | { k: 'un'; op: '-' | 'not'; a: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'call'; fn: string; args: Expr[]; star?: boolean }
  | { k: 'agg'; index: number };

/** The aggregate functions of a measure. */
export type AggregateKind = 'sum' | 'count' | 'avg' | 'min' | 'max';

/** One aggregate call of a measure or `having`: its kind and row expression (none for `count()`). */
export interface Aggregate {
  kind: AggregateKind;
  arg?: Expr;
  /** Its text, to deduplicate identical calls and to name it in errors. */
  text: string;
}

const AGGREGATES = new Set<AggregateKind>(['sum', 'count', 'avg', 'min', 'max']);
const ROW_FUNCTIONS = new Set(['round', 'abs', 'floor', 'ceil', 'coalesce', 'if', 'min', 'max', 'sum', 'product', 'count', 'avg']);

type Token = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string } | { t: 'end' };

function tokenize(src: string, where: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const bad = (msg: string) => new TributaryError('BAD_OPTION', `${where}: ${msg} in expression '${src}'`);
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? '') && !afterName(out))) {
      // After a path's dot (`selections.1.odds`) a number is a list index: digits only.
      const last = out[out.length - 1];
      const index = last?.t === 'op' && last.v === '.';
      const m = (index ? /^\d+/ : /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/).exec(src.slice(i))!;
      out.push({ t: 'num', v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j++];
      }
      if (j >= src.length) throw bad('unterminated string');
      out.push({ t: 'str', v: s });
      i = j + 1;
    } else {
      const two = src.slice(i, i + 2);
      if (['<=', '>=', '!=', '<>', '==', '&&', '||'].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if ('+-*/%()<>=,.!'.includes(c)) {
        out.push({ t: 'op', v: c });
        i++;
      } else throw bad(`unexpected '${c}'`);
    }
  }
  out.push({ t: 'end' });
  return out;
}

/** Whether the last token ends a name or number, so a following `.` is a path's dot. */
function afterName(out: Token[]): boolean {
  const last = out[out.length - 1];
  return last !== undefined && (last.t === 'id' || last.t === 'num');
}

/** Precedence of binary operators (higher binds tighter). */
const PRECEDENCE: Record<string, number> = {
  or: 1,
  '||': 1,
  and: 2,
  '&&': 2,
  '=': 3,
  '==': 3,
  '!=': 3,
  '<>': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
};

class Parser {
  private pos = 0;
  private readonly tokens: Token[];

  constructor(
    private readonly src: string,
    private readonly where: string,
    /** Collects aggregate calls; undefined where none are allowed (row expressions). */
    private aggregates?: Aggregate[],
  ) {
    this.tokens = tokenize(src, where);
  }

  private bad(msg: string): TributaryError {
    return new TributaryError('BAD_OPTION', `${this.where}: ${msg} in expression '${this.src}'`);
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private expect(v: string): void {
    if (!this.isOp(v)) throw this.bad(`expected '${v}'`);
    this.pos++;
  }

  parseAll(): Expr {
    const e = this.expr(0);
    if (this.peek().t !== 'end') throw this.bad(`unexpected ${describe(this.peek())}`);
    return e;
  }

  private binaryOp(): string | undefined {
    const t = this.peek();
    if (t.t === 'op' && PRECEDENCE[t.v] !== undefined) return t.v;
    if (t.t === 'id' && (t.v.toLowerCase() === 'and' || t.v.toLowerCase() === 'or')) return t.v.toLowerCase();
    return undefined;
  }

  private expr(min: number): Expr {
    let left = this.unary();
    for (;;) {
      const op = this.binaryOp();
      if (op === undefined || PRECEDENCE[op] <= min) return left;
      this.pos++;
      const right = this.expr(PRECEDENCE[op]);
      left = { k: 'bin', op: normalizeOp(op), a: left, b: right };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.t === 'op' && t.v === '-') {
      this.pos++;
      return { k: 'un', op: '-', a: this.unary() };
    }
    if (t.t === 'op' && t.v === '+') {
      this.pos++;
      return this.unary();
    }
    if ((t.t === 'op' && t.v === '!') || (t.t === 'id' && t.v.toLowerCase() === 'not')) {
      this.pos++;
      return { k: 'un', op: 'not', a: this.expr(PRECEDENCE['=']) };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    this.pos++;
    if (t.t === 'num') return { k: 'lit', v: t.v };
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'op' && t.v === '(') {
      const e = this.expr(0);
      this.expect(')');
      return e;
    }
    if (t.t === 'id') {
      const lower = t.v.toLowerCase();
      if (lower === 'true') return { k: 'lit', v: true };
      if (lower === 'false') return { k: 'lit', v: false };
      if (lower === 'null') return { k: 'lit', v: null };
      if (this.isOp('(')) return this.call(lower);
      const parts = [t.v];
      while (this.isOp('.')) {
        this.pos++;
        const n = this.peek();
        if (n.t !== 'id' && n.t !== 'num') throw this.bad("expected a name after '.'");
        this.pos++;
        parts.push(String(n.v));
      }
      return { k: 'path', parts, text: parts.join('.') };
    }
    throw this.bad(`unexpected ${describe(t)}`);
  }

  private call(fn: string): Expr {
    const start = this.pos - 1;
    this.expect('(');
    const args: Expr[] = [];
    let star = false;
    if (this.isOp('*') && this.tokens[this.pos + 1]?.t === 'op' && (this.tokens[this.pos + 1] as { v: string }).v === ')') {
      this.pos++;
      star = true;
    } else if (!this.isOp(')')) {
      // Inside an aggregate's argument, calls are row functions again.
      const aggregate = this.aggregates !== undefined && AGGREGATES.has(fn as AggregateKind);
      const saved = this.aggregates;
      if (aggregate) this.aggregates = undefined;
      try {
        for (;;) {
          args.push(this.expr(0));
          if (!this.isOp(',')) break;
          this.pos++;
        }
      } finally {
        this.aggregates = saved;
      }
    }
    this.expect(')');
    const text = this.textOf(start);
    if (this.aggregates !== undefined && AGGREGATES.has(fn as AggregateKind)) {
      const kind = fn as AggregateKind;
      if (kind === 'count' ? args.length > 1 : args.length !== 1 || star)
        throw this.bad(`${kind}() takes ${kind === 'count' ? 'one row expression, * or nothing' : 'one row expression'}`);
      const key = text;
      let index = this.aggregates.findIndex((a) => a.text === key);
      if (index < 0) {
        index = this.aggregates.length;
        this.aggregates.push({ kind, arg: args[0], text });
      }
      return { k: 'agg', index };
    }
    if (!ROW_FUNCTIONS.has(fn)) throw this.bad(`unknown function '${fn}'`);
    if (star) throw this.bad(`${fn}(*) is not a row function`);
    return { k: 'call', fn, args };
  }

  /** The source text of the tokens from `start` to the current position. */
  private textOf(start: number): string {
    // Canonical: no spaces but between two words, so `sum(a * b)` and `sum(a*b)` are one call.
    let text = '';
    let prevWord = false;
    for (const t of this.tokens.slice(start, this.pos)) {
      if (t.t === 'end') continue;
      const word = t.t === 'id' || t.t === 'num';
      if (word && prevWord) text += ' ';
      text += t.t === 'str' ? `'${t.v}'` : String(t.v);
      prevWord = word;
    }
    return text;
  }
}

function normalizeOp(op: string): string {
  if (op === '==') return '=';
  if (op === '<>') return '!=';
  if (op === '&&') return 'and';
  if (op === '||') return 'or';
  return op;
}

function describe(t: Token): string {
  return t.t === 'end' ? 'end of expression' : `'${String(t.v)}'`;
}

/**
 * Parses a row expression: evaluated on each row at insert time (no aggregates).
 *
 * @example
 * ```ts
 * const e = parseRowExpression('stake * exchange_rate * (odds - 1)', "node 'w'");
 * evaluate(e, { stake: 100, exchange_rate: 1, odds: 1.5 }); // 50
 * ```
 */
export function parseRowExpression(src: string, where: string): Expr {
  if (typeof src !== 'string' || src.trim() === '')
    throw new TributaryError('BAD_OPTION', `${where}: expected an expression, got ${JSON.stringify(src)}`);
  return new Parser(src, where).parseAll();
}

/**
 * Parses a measure or `having` expression: aggregate calls (`sum(…)`, `count()` …) are
 * collected into `aggregates` (identical calls shared) and stand for their value; the rest is
 * evaluated over the aggregated values, and, in `having`, the output row's fields by name.
 *
 * @example
 * ```ts
 * const aggregates: Aggregate[] = [];
 * const e = parseMeasure('round(sum(stake * (odds - 1)), 2)', "node 'w' measure 'liability'", aggregates);
 * aggregates; // [{ kind: 'sum', arg: …, text: 'sum(stake*(odds-1))' }]
 * ```
 */
export function parseMeasure(src: string, where: string, aggregates: Aggregate[]): Expr {
  if (typeof src !== 'string' || src.trim() === '')
    throw new TributaryError('BAD_OPTION', `${where}: expected an expression, got ${JSON.stringify(src)}`);
  return new Parser(src, where, aggregates).parseAll();
}

/** Whether an expression uses an aggregate call. */
export function hasAggregate(e: Expr): boolean {
  switch (e.k) {
    case 'agg':
      return true;
    case 'un':
      return hasAggregate(e.a);
    case 'bin':
      return hasAggregate(e.a) || hasAggregate(e.b);
    case 'call':
      return e.args.some(hasAggregate);
    default:
      return false;
  }
}

/**
 * The scope of one row of an `each` window: the payload's fields, and the current item of
 * the list under its own name (`item.game_id`).
 *
 * @example
 * ```ts
 * const scope = new RowScope(bet, 'item', bet.selections[0]);
 * evaluate(parseRowExpression('item.game_id', 'w'), scope); // the selection's game
 * ```
 */
export class RowScope {
  constructor(
    readonly payload: unknown,
    readonly name: string,
    readonly item: unknown,
  ) {}
}

/** A value at a path: through objects by key, through a list by mapping over its items. */
function at(scope: unknown, parts: string[], i: number): unknown {
  let v = scope;
  for (; i < parts.length; i++) {
    if (v === null || v === undefined) return null;
    if (Array.isArray(v)) {
      const n = Number(parts[i]);
      if (Number.isInteger(n) && String(n) === parts[i]) v = v[n];
      else {
        const rest = i;
        return v.map((item) => at(item, parts, rest));
      }
    } else if (typeof v === 'object') {
      // Own properties only: a path never reaches a prototype (`constructor`, `__proto__`).
      v = Object.hasOwn(v, parts[i]) ? (v as Record<string, unknown>)[parts[i]] : undefined;
    } else return null;
  }
  return v === undefined ? null : v;
}

function num(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

function listOf(v: unknown, fn: string): unknown[] {
  if (Array.isArray(v)) return v.flat(Infinity);
  throw new Error(`${fn}() of one value needs a list (got ${JSON.stringify(v)}); as an aggregate use it in a measure`);
}

/** SQL's round: half away from zero, `digits` after the point. */
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(Math.abs(x) * f + Number.EPSILON * Math.abs(x) * f) / f;
  return x < 0 ? -r : r;
}

function compare(a: unknown, b: unknown): number | null {
  if (a === null || b === null || a === undefined || b === undefined) return null;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

function truthy(v: unknown): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v !== 0;
  return Boolean(v);
}

/**
 * Evaluates an expression over `scope` (a payload, a row with `each`'s item, or an output
 * row); `aggregates` gives the values of aggregate calls. Throws on a value of the wrong kind
 * (text where a number is needed), with the expression's path in the message.
 *
 * @example
 * ```ts
 * evaluate(parseRowExpression('product(selections.odds)', 'w'), { selections: [{ odds: 2 }, { odds: 1.5 }] }); // 3
 * ```
 */
export function evaluate(e: Expr, scope: unknown, aggregates?: readonly unknown[]): unknown {
  switch (e.k) {
    case 'lit':
      return e.v;
    case 'path':
      if (scope instanceof RowScope) return e.parts[0] === scope.name ? at(scope.item, e.parts, 1) : at(scope.payload, e.parts, 0);
      return at(scope, e.parts, 0);
    case 'agg':
      return aggregates?.[e.index] ?? null;
    case 'un': {
      const a = evaluate(e.a, scope, aggregates);
      if (e.op === 'not') {
        const t = truthy(a);
        return t === null ? null : !t;
      }
      const n = arith(a, e.a);
      return n === null ? null : -n;
    }
    case 'bin':
      return binary(e, scope, aggregates);
    case 'call':
      return call(e, scope, aggregates);
  }
}

function arith(v: unknown, e: Expr): number | null {
  if (v === null || v === undefined) return null;
  const n = num(v);
  if (n === null) throw new Error(`'${exprText(e)}' needs a number, got ${JSON.stringify(v)}`);
  return n;
}

function binary(e: Extract<Expr, { k: 'bin' }>, scope: unknown, aggregates?: readonly unknown[]): unknown {
  const a = evaluate(e.a, scope, aggregates);
  if (e.op === 'and' || e.op === 'or') {
    const x = truthy(a);
    if (e.op === 'and' && x === false) return false;
    if (e.op === 'or' && x === true) return true;
    const y = truthy(evaluate(e.b, scope, aggregates));
    if (e.op === 'and') return y === false ? false : x === null || y === null ? null : true;
    return y === true ? true : x === null || y === null ? null : false;
  }
  const b = evaluate(e.b, scope, aggregates);
  switch (e.op) {
    case '=':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const c = compare(a, b);
      if (c === null) return null;
      return e.op === '='
        ? c === 0
        : e.op === '!='
          ? c !== 0
          : e.op === '<'
            ? c < 0
            : e.op === '<='
              ? c <= 0
              : e.op === '>'
                ? c > 0
                : c >= 0;
    }
  }
  const x = arith(a, e.a);
  const y = arith(b, e.b);
  if (x === null || y === null) return null;
  switch (e.op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return y === 0 ? null : x / y;
    default:
      return y === 0 ? null : x % y;
  }
}

function call(e: Extract<Expr, { k: 'call' }>, scope: unknown, aggregates?: readonly unknown[]): unknown {
  const args = e.args.map((a) => evaluate(a, scope, aggregates));
  const one = (i = 0) => arith(args[i], e.args[i]);
  switch (e.fn) {
    case 'round': {
      const x = one();
      const d = args.length > 1 ? one(1) : 0;
      return x === null || d === null ? null : round(x, d);
    }
    case 'abs':
      return args[0] === null ? null : Math.abs(one()!);
    case 'floor':
      return args[0] === null ? null : Math.floor(one()!);
    case 'ceil':
      return args[0] === null ? null : Math.ceil(one()!);
    case 'coalesce':
      return args.find((a) => a !== null && a !== undefined) ?? null;
    case 'if':
      return truthy(args[0]) ? (args[1] ?? null) : (args[2] ?? null);
  }
  // min/max of several values; the list functions of one list.
  let values: unknown[];
  if ((e.fn === 'min' || e.fn === 'max') && args.length > 1) values = args;
  else {
    if (args.length !== 1) throw new Error(`${e.fn}() takes one list`);
    values = listOf(args[0], e.fn);
  }
  const present = values.filter((v) => v !== null && v !== undefined);
  if (e.fn === 'count') return present.length;
  const nums = present.map((v, i) => arith(v, e.args[Math.min(i, e.args.length - 1)])!);
  switch (e.fn) {
    case 'sum':
      return nums.length ? nums.reduce((s, x) => s + x, 0) : null;
    case 'product':
      return nums.length ? nums.reduce((s, x) => s * x, 1) : null;
    case 'avg':
      return nums.length ? nums.reduce((s, x) => s + x, 0) / nums.length : null;
    case 'min':
      return nums.length ? Math.min(...nums) : null;
    default:
      return nums.length ? Math.max(...nums) : null;
  }
}

/** An expression's text, for messages. */
export function exprText(e: Expr): string {
  switch (e.k) {
    case 'lit':
      return typeof e.v === 'string' ? `'${e.v}'` : String(e.v);
    case 'path':
      return e.text;
    case 'agg':
      return `aggregate #${e.index + 1}`;
    case 'un':
      return e.op === '-' ? `-${exprText(e.a)}` : `not ${exprText(e.a)}`;
    case 'bin':
      return `${exprText(e.a)} ${e.op} ${exprText(e.b)}`;
    case 'call':
      return `${e.fn}(${e.args.map(exprText).join(', ')})`;
  }
}
