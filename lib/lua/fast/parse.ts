// A parser for the small, pure subset of Lua that node functions are mostly written in
// (`function(b) return b.stake * (b.odds - 1) end`): expressions, locals, if/elseif/else,
// return. Anything outside the subset throws {@link Unsupported}, and the function simply
// stays on the Lua VM. See `compile.ts` for why and how the subset runs in JS.

/** Thrown for source outside the subset: the caller keeps the function on the VM. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

export type Expr =
  | { k: 'nil' }
  | { k: 'bool'; v: boolean }
  | { k: 'num'; v: number; int: boolean }
  | { k: 'str'; v: string }
  | { k: 'name'; name: string }
  | { k: 'index'; obj: Expr; key: Expr }
  | { k: 'call'; fn: Expr; args: Expr[] }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'un'; op: string; a: Expr }
  | { k: 'table'; items: { key?: Expr; value: Expr }[] }
  | { k: 'paren'; e: Expr };

export type Stat =
  | { k: 'local'; names: string[]; exprs: Expr[] }
  | { k: 'assign'; names: string[]; exprs: Expr[] }
  | { k: 'if'; conds: Expr[]; blocks: Stat[][]; otherwise?: Stat[] }
  | { k: 'return'; e?: Expr }
  | { k: 'do'; body: Stat[] };

/** A parsed `function (params) body end`: where it starts and ends in the chunk. */
export interface FunctionAst {
  params: string[];
  body: Stat[];
  line: number;
  lastLine: number;
}

interface Token {
  t: 'name' | 'num' | 'str' | 'op' | 'eof';
  v: string;
  line: number;
  num?: number;
  int?: boolean;
}

const KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]); // prettier-ignore
const OPS = [
  '...',
  '..',
  '==',
  '~=',
  '<=',
  '>=',
  '//',
  '::',
  '<<',
  '>>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '^',
  '#',
  '&',
  '~',
  '|',
  '<',
  '>',
  '=',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ';',
  ':',
  ',',
  '.',
];
const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
  '\n': '\n',
};

/**
 * Splits a whole Lua chunk into tokens (long strings and comments may span lines, so the
 * chunk is read from its start). Numerals and escapes the subset cannot represent exactly
 * (hexadecimal floats, integers beyond 32 bits, byte escapes) make the token `unsupported`.
 *
 * @example
 * ```ts
 * tokenize('return n * 2').map((t) => t.v); // ['return', 'n', '*', '2', '']
 * ```
 */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const longBracket = (): string | undefined => {
    // at '[': [[ or [=*[
    let j = i + 1;
    let level = 0;
    while (src[j] === '=') {
      level++;
      j++;
    }
    if (src[j] !== '[') return undefined;
    const close = ']' + '='.repeat(level) + ']';
    const end = src.indexOf(close, j + 1);
    if (end < 0) throw new Unsupported('unfinished long bracket');
    let body = src.slice(j + 1, end);
    for (const c of src.slice(i, end + close.length)) if (c === '\n') line++;
    if (body.startsWith('\r\n')) body = body.slice(2);
    else if (body.startsWith('\n')) body = body.slice(1);
    i = end + close.length;
    return body;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    if (c === '-' && src[i + 1] === '-') {
      i += 2;
      if (src[i] === '[' && longBracket() !== undefined) continue;
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    const at = line;
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_]/.test(src[j])) j++;
      const v = src.slice(i, j);
      out.push({ t: KEYWORDS.has(v) ? 'op' : 'name', v, line: at });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^(0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?([pP][+-]?[0-9]+)?|[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?)/.exec(src.slice(i))!;
      const text = m[0];
      i += text.length;
      if (/^0[xX]/.test(text)) {
        if (/[.pP]/.test(text)) throw new Unsupported('hexadecimal float');
        const n = parseInt(text.slice(2), 16);
        if (!(n <= 0xffffffff)) throw new Unsupported('hexadecimal integer beyond 32 bits');
        out.push({ t: 'num', v: text, num: n | 0, int: true, line: at });
      } else if (/[.eE]/.test(text)) {
        out.push({ t: 'num', v: text, num: Number(text), int: false, line: at });
      } else {
        const n = Number(text);
        if (n > 2147483647) throw new Unsupported('integer beyond 32 bits');
        out.push({ t: 'num', v: text, num: n, int: true, line: at });
      }
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        const d = src[j];
        if (d === undefined || d === '\n') throw new Unsupported('unfinished string');
        if (d === c) break;
        if (d === '\\') {
          const e = src[j + 1];
          if (e in ESCAPES) {
            s += ESCAPES[e];
            if (e === '\n') line++;
            j += 2;
            continue;
          }
          throw new Unsupported(`escape \\${e}`);
        }
        s += d;
        j++;
      }
      out.push({ t: 'str', v: s, line: at });
      i = j + 1;
      continue;
    }
    if (c === '[') {
      const body = longBracket();
      if (body !== undefined) {
        out.push({ t: 'str', v: body, line: at });
        continue;
      }
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Unsupported(`character ${JSON.stringify(c)}`);
    out.push({ t: 'op', v: op, line: at });
    i += op.length;
  }
  out.push({ t: 'eof', v: '', line });
  return out;
}

const BINARY: Record<string, [number, number]> = {
  or: [1, 1], and: [2, 2],
  '<': [3, 3], '>': [3, 3], '<=': [3, 3], '>=': [3, 3], '~=': [3, 3], '==': [3, 3],
  '..': [9, 8], '+': [10, 10], '-': [10, 10], '*': [11, 11], '/': [11, 11], '//': [11, 11], '%': [11, 11],
  '^': [14, 13],
}; // prettier-ignore
const BITWISE = new Set(['|', '~', '&', '<<', '>>']);
const UNARY_PRIORITY = 12;

class Parser {
  constructor(
    private readonly toks: Token[],
    private pos: number,
  ) {}

  private peek(): Token {
    return this.toks[this.pos];
  }
  private next(): Token {
    return this.toks[this.pos++];
  }
  private is(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private accept(v: string): boolean {
    if (!this.is(v)) return false;
    this.pos++;
    return true;
  }
  private expect(v: string): Token {
    if (!this.is(v)) throw new Unsupported(`expected '${v}' near '${this.peek().v}'`);
    return this.next();
  }
  private name(): string {
    const t = this.next();
    if (t.t !== 'name') throw new Unsupported(`expected a name near '${t.v}'`);
    return t.v;
  }

  /** At the `function` keyword (or after `local function f`/`function a.b`): the function. */
  functionAt(): FunctionAst {
    const line = this.expect('function').line;
    if (!this.is('(')) {
      // `function name(…)` / `local function name(…)` statements: the name is not our business.
      this.name();
      while (this.accept('.')) this.name();
      if (this.is(':')) throw new Unsupported('method definition');
    }
    this.expect('(');
    const params: string[] = [];
    if (!this.is(')')) {
      do {
        if (this.is('...')) throw new Unsupported('varargs');
        params.push(this.name());
      } while (this.accept(','));
    }
    this.expect(')');
    const body = this.block();
    const lastLine = this.expect('end').line;
    return { params, body, line, lastLine };
  }

  private block(): Stat[] {
    const stats: Stat[] = [];
    for (;;) {
      if (this.accept(';')) continue;
      const t = this.peek();
      if (t.t === 'eof' || (t.t === 'op' && (t.v === 'end' || t.v === 'else' || t.v === 'elseif'))) return stats;
      if (this.accept('return')) {
        let e: Expr | undefined;
        const n = this.peek();
        if (!(n.t === 'eof' || (n.t === 'op' && (n.v === 'end' || n.v === 'else' || n.v === 'elseif' || n.v === ';')))) {
          e = this.expr();
          if (this.is(',')) throw new Unsupported('several return values');
        }
        this.accept(';');
        const after = this.peek();
        if (!(after.t === 'op' && (after.v === 'end' || after.v === 'else' || after.v === 'elseif')))
          throw new Unsupported('code after return');
        stats.push({ k: 'return', e });
        return stats;
      }
      stats.push(this.statement());
    }
  }

  private statement(): Stat {
    if (this.accept('local')) {
      if (this.is('function')) throw new Unsupported('nested function');
      const names = [this.name()];
      while (this.accept(',')) names.push(this.name());
      if (this.is('<')) throw new Unsupported('attribs');
      const exprs = this.accept('=') ? this.exprList() : [];
      return { k: 'local', names, exprs };
    }
    if (this.accept('if')) {
      const conds = [this.expr()];
      this.expect('then');
      const blocks = [this.block()];
      let otherwise: Stat[] | undefined;
      for (;;) {
        if (this.accept('elseif')) {
          conds.push(this.expr());
          this.expect('then');
          blocks.push(this.block());
        } else if (this.accept('else')) {
          otherwise = this.block();
          this.expect('end');
          break;
        } else {
          this.expect('end');
          break;
        }
      }
      return { k: 'if', conds, blocks, otherwise };
    }
    if (this.accept('do')) {
      const body = this.block();
      this.expect('end');
      return { k: 'do', body };
    }
    const t = this.peek();
    if (t.t === 'name') {
      // Only `a, b = …` to plain names (locals: the compiler refuses anything else).
      const names = [this.name()];
      while (this.accept(',')) names.push(this.name());
      if (!this.accept('=')) throw new Unsupported('statement');
      return { k: 'assign', names, exprs: this.exprList() };
    }
    throw new Unsupported(`statement '${t.v}'`);
  }

  private exprList(): Expr[] {
    const list = [this.expr()];
    while (this.accept(',')) list.push(this.expr());
    return list;
  }

  expr(limit = 0): Expr {
    let left: Expr;
    const t = this.peek();
    if (t.t === 'op' && (t.v === 'not' || t.v === '-' || t.v === '#')) {
      this.next();
      left = { k: 'un', op: t.v, a: this.expr(UNARY_PRIORITY) };
    } else if (t.t === 'op' && t.v === '~') throw new Unsupported('bitwise not');
    else left = this.simple();
    for (;;) {
      const o = this.peek();
      if (o.t !== 'op') break;
      if (BITWISE.has(o.v)) throw new Unsupported('bitwise operator');
      const prio = BINARY[o.v];
      if (!prio || prio[0] <= limit) break;
      this.next();
      left = { k: 'bin', op: o.v, a: left, b: this.expr(prio[1]) };
    }
    return left;
  }

  private simple(): Expr {
    const t = this.peek();
    if (t.t === 'num') {
      this.next();
      return { k: 'num', v: t.num!, int: t.int! };
    }
    if (t.t === 'str') {
      this.next();
      return { k: 'str', v: t.v };
    }
    if (t.t === 'op') {
      if (this.accept('nil')) return { k: 'nil' };
      if (this.accept('true')) return { k: 'bool', v: true };
      if (this.accept('false')) return { k: 'bool', v: false };
      if (this.is('{')) return this.table();
      if (t.v === 'function') throw new Unsupported('nested function');
      if (t.v === '...') throw new Unsupported('varargs');
    }
    return this.suffixed();
  }

  private suffixed(): Expr {
    let e: Expr;
    if (this.accept('(')) {
      e = { k: 'paren', e: this.expr() };
      this.expect(')');
    } else e = { k: 'name', name: this.name() };
    for (;;) {
      if (this.accept('.')) e = { k: 'index', obj: e, key: { k: 'str', v: this.name() } };
      else if (this.accept('[')) {
        e = { k: 'index', obj: e, key: this.expr() };
        this.expect(']');
      } else if (this.is('(')) {
        this.next();
        const args = this.is(')') ? [] : this.exprList();
        this.expect(')');
        e = { k: 'call', fn: e, args };
      } else if (this.is(':') || this.is('{') || this.peek().t === 'str') throw new Unsupported('method or table/string call');
      else return e;
    }
  }

  private table(): Expr {
    this.expect('{');
    const items: { key?: Expr; value: Expr }[] = [];
    while (!this.is('}')) {
      if (this.is('[')) {
        this.next();
        const key = this.expr();
        this.expect(']');
        this.expect('=');
        items.push({ key, value: this.expr() });
      } else if (this.peek().t === 'name' && this.toks[this.pos + 1].t === 'op' && this.toks[this.pos + 1].v === '=') {
        const key: Expr = { k: 'str', v: this.name() };
        this.expect('=');
        items.push({ key, value: this.expr() });
      } else items.push({ value: this.expr() });
      if (!this.accept(',') && !this.accept(';')) break;
    }
    this.expect('}');
    if (items.filter((i) => !i.key).length > 50) throw new Unsupported('long table constructor');
    return { k: 'table', items };
  }
}

/**
 * The function of a chunk that starts on `line` and ends on `lastLine` with `nparams`
 * parameters (what `lua_getinfo` says of a function value), parsed; undefined when it is
 * outside the subset, or when `line` holds more than one function (it could be either).
 *
 * @example
 * ```ts
 * functionAt(tokenize('tb.create_map("m", function(n) return n * 2 end)'), 1, 1, 1); // { params: ['n'], … }
 * ```
 */
export function functionAt(tokens: Token[], line: number, lastLine: number, nparams: number): FunctionAst | undefined {
  let at = -1;
  for (let i = 0; i < tokens.length && tokens[i].line <= line; i++) {
    const t = tokens[i];
    if (t.line !== line || t.t !== 'op' || t.v !== 'function') continue;
    if (at >= 0) return undefined;
    at = i;
  }
  if (at < 0) return undefined;
  try {
    const fn = new Parser(tokens, at).functionAt();
    return fn.lastLine === lastLine && fn.params.length === nparams ? fn : undefined;
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
