// Node functions in JS: most functions given to nodes are small and pure
// (`function(b) return { customer = b.customer, liability = b.stake * (b.odds - 1) } end`),
// and crossing into fengari costs far more than the work they do (a protected call, a table
// built from the payload, the result converted back). Such a function is compiled here into
// JS closures that work on the payload directly and give exactly what the VM would give.
//
// Exactness comes from two rules:
// - the subset is pure (no globals or upvalues written, no payload mutated, no loops, only
//   standard library functions known to be untouched), so a call can always be run again;
// - every case the closures do not reproduce bit for bit — an error of any kind, a string
//   coerced to a number, non-ASCII text where Lua counts bytes, a value the bridge converts
//   specially, NaN in a result — throws BAIL, and the bridge runs that call on the VM instead.
// Numbers follow fengari: 32-bit integers that wrap, floats; a float with an integral value is
// carried as a LuaFloat box so that `3.0 .. ""` is "3.0" as in Lua.
import { Unsupported, type Expr, type FunctionAst, type Stat } from './parse';

/** Thrown when a call leaves what the closures reproduce: the caller runs it on the VM. */
export const BAIL: unique symbol = Symbol('bail to the Lua VM');

/** A Lua float whose value is integral and fits 32 bits (other floats are plain numbers). */
class LuaFloat {
  constructor(readonly v: number) {}
}

/** A table built by the function (a constructor): Lua keys, insertion order. */
class LTable {
  readonly map = new Map<unknown, unknown>();
}

/**
 * A table built by a constructor whose keys are all distinct names (`{ customer = …, total = … }`,
 * the usual result of a node function): the site's names, shared, and this call's values (nil
 * where a value was nil). Cheaper to build and to hand back than an {@link LTable}'s Map.
 */
class LRecord {
  constructor(
    readonly keys: readonly string[],
    readonly vals: unknown[],
  ) {}
}

/** What compiling needs to know about the function's surroundings. */
export interface CompileEnv {
  /** The upvalue index (1-based) of a captured local of the script, if `name` is one. */
  upvalueIndex(name: string): number | undefined;
  /** True when `path` (`math.floor`, `tostring` …) is the untouched standard function. */
  isStandard(path: string): boolean;
}

/** A compiled node function: payload in, JS result out (or BAIL). `upvalue(i)` reads upvalue i. */
export type Compiled = (payload: unknown, upvalue: (i: number) => unknown) => unknown;

interface Frame {
  s: unknown[];
  upv: (i: number) => unknown;
  ret: unknown;
}
type Ev = (f: Frame) => unknown;
/** A statement: true when it returned. */
type Ex = (f: Frame) => boolean;

const bail = (): never => {
  throw BAIL;
};
const isInt = (v: unknown): v is number => typeof v === 'number' && (v | 0) === v;
const box = (r: number): unknown => ((r | 0) === r ? new LuaFloat(r) : r);

/**
 * A Lua float as the closures carry it (integral values boxed, so they print as floats).
 *
 * @example
 * ```ts
 * floatValue(2.5); // 2.5
 * floatValue(3);   // a LuaFloat: `.. ""` makes "3.0" of it, as Lua does
 * ```
 */
export const floatValue = box;
const ASCII = /^[\x00-\x7f]*$/;

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof LuaFloat) return v.v;
  return bail();
}

function isPlain(o: object): boolean {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
}

/** A value read from the payload, as the VM would see it after the bridge pushed it. */
function read(v: unknown): unknown {
  switch (typeof v) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
      return v;
    case 'symbol':
      return undefined;
    case 'object':
      if (v === null) return undefined;
      if (Array.isArray(v) || isPlain(v)) return v;
      return bail();
    default:
      return bail();
  }
}

function truthy(v: unknown): boolean {
  return v !== undefined && v !== false;
}

function arith(op: string, a: unknown, b: unknown): unknown {
  if (isInt(a) && isInt(b)) {
    switch (op) {
      case '+':
        return (a + b) | 0;
      case '-':
        return (a - b) | 0;
      case '*':
        return Math.imul(a, b);
      case '//':
        return b === 0 ? bail() : Math.floor(a / b) | 0;
      case '%':
        return b === 0 ? bail() : (a - Math.floor(a / b) * b) | 0;
      case '/':
        return box(a / b);
      default:
        return box(Math.pow(a, b));
    }
  }
  const x = num(a);
  const y = num(b);
  switch (op) {
    case '+':
      return box(x + y);
    case '-':
      return box(x - y);
    case '*':
      return box(x * y);
    case '/':
      return box(x / y);
    case '//':
      return box(Math.floor(x / y));
    case '%': {
      let m = x % y;
      if (m * y < 0) m += y;
      return box(m);
    }
    default:
      return box(Math.pow(x, y));
  }
}

function floatText(n: number): string {
  if (!Number.isFinite(n)) return bail();
  const s = String(Number(n.toPrecision(14)));
  return /^[-0123456789]+$/.test(s) ? `${s}.0` : s;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isInt(v)) return String(v);
  if (typeof v === 'number') return floatText(v);
  if (v instanceof LuaFloat) return floatText(v.v);
  return bail();
}

function tostring(v: unknown): string {
  if (v === undefined) return 'nil';
  if (typeof v === 'boolean') return String(v);
  return text(v);
}

function luaType(v: unknown): string {
  if (v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number' || v instanceof LuaFloat) return 'number';
  if (typeof v === 'string') return 'string';
  return 'table';
}

function lt(a: unknown, b: unknown, orEqual: boolean): boolean {
  if (typeof a === 'string' && typeof b === 'string') {
    if (!ASCII.test(a) || !ASCII.test(b)) return bail();
    return orEqual ? a <= b : a < b;
  }
  const x = num(a);
  const y = num(b);
  return orEqual ? x <= y : x < y;
}

function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = a instanceof LuaFloat ? a.v : a;
  const y = b instanceof LuaFloat ? b.v : b;
  return typeof x === 'number' && typeof y === 'number' && x === y;
}

/** The length of a sequence table (arrays from the payload, built tables), or BAIL. */
function seqLength(t: LTable): number {
  const n = t.map.size;
  for (let i = 1; i <= n; i++) if (!t.map.has(i)) return bail();
  return n;
}

function len(v: unknown): number {
  if (typeof v === 'string') return ASCII.test(v) ? v.length : bail();
  if (Array.isArray(v)) {
    for (const x of v) if (x === undefined || x === null) return bail();
    return v.length;
  }
  if (v instanceof LTable) {
    for (const k of v.map.keys()) if (typeof k === 'number') return seqLength(v);
    return 0;
  }
  if (v instanceof LRecord) return 0; // names only
  if (typeof v === 'object' && v !== null && isPlain(v)) return 0; // string keys only
  return bail();
}

function tableKey(k: unknown): unknown {
  if (k instanceof LuaFloat) return k.v | 0;
  if (k === undefined || (typeof k === 'number' && Number.isNaN(k))) return bail();
  if (typeof k === 'object') return bail();
  return k;
}

function get(t: unknown, k: unknown): unknown {
  if (Array.isArray(t)) {
    const i = isInt(k) ? k : k instanceof LuaFloat ? k.v : undefined;
    if (i === undefined) return typeof k === 'object' ? bail() : undefined;
    return i >= 1 && i <= t.length ? read(t[i - 1]) : undefined;
  }
  if (t instanceof LTable) return t.map.get(tableKey(k));
  if (t instanceof LRecord) {
    if (typeof k === 'string') {
      const i = t.keys.indexOf(k);
      return i < 0 ? undefined : t.vals[i];
    }
    return typeof k === 'object' ? bail() : undefined;
  }
  if (typeof t === 'object' && t !== null && isPlain(t)) {
    if (typeof k === 'string') return Object.hasOwn(t, k) ? read((t as Record<string, unknown>)[k]) : undefined;
    return typeof k === 'object' ? bail() : undefined;
  }
  return bail();
}

const MAX_DEPTH = 100;

function setKey(obj: Record<string, unknown>, key: string, v: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
  else obj[key] = v;
}

/** The JS value the bridge would have made of the Lua result: a deep copy, never shared with the payload. */
function out(v: unknown, depth = 0): unknown {
  switch (typeof v) {
    case 'undefined':
    case 'boolean':
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : bail(); // -0 stays -0: fengari keeps it, even as an integer
    case 'symbol':
      return undefined;
    case 'object':
      break;
    default:
      return bail();
  }
  if (v === null) return undefined;
  if (v instanceof LuaFloat) return v.v;
  if (depth >= MAX_DEPTH) return bail();
  if (Array.isArray(v)) {
    const arr = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x === undefined || x === null || typeof x === 'symbol') return bail(); // a hole: the VM's border is its own
      arr[i] = out(x, depth + 1);
    }
    return arr;
  }
  if (v instanceof LTable) {
    if (v.map.size === 0) return [];
    let seq = true;
    for (let i = 1; i <= v.map.size && seq; i++) seq = v.map.has(i);
    if (seq) {
      const arr = new Array(v.map.size);
      for (let i = 1; i <= v.map.size; i++) arr[i - 1] = out(v.map.get(i), depth + 1);
      return arr;
    }
    const obj: Record<string, unknown> = {};
    for (const [k, x] of v.map) setKey(obj, String(k), out(x, depth + 1));
    return obj;
  }
  if (v instanceof LRecord) {
    const obj: Record<string, unknown> = {};
    let empty = true;
    for (let i = 0; i < v.keys.length; i++) {
      const x = v.vals[i];
      if (x === undefined) continue;
      setKey(obj, v.keys[i], out(x, depth + 1));
      empty = false;
    }
    return empty ? [] : obj;
  }
  if (!isPlain(v)) return bail();
  const obj: Record<string, unknown> = {};
  let empty = true;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || x === null || typeof x === 'symbol') continue;
    setKey(obj, k, out(x, depth + 1));
    empty = false;
  }
  return empty ? [] : obj;
}

type Builtin = (args: unknown[]) => unknown;

function intOrFloat(d: number): unknown {
  return (d | 0) === d ? d | 0 : d;
}

const BUILTINS: Record<string, Builtin> = {
  'math.floor': ([x]) => (isInt(x) ? x : intOrFloat(Math.floor(num(x)))),
  'math.ceil': ([x]) => (isInt(x) ? x : intOrFloat(Math.ceil(num(x)))),
  'math.abs': ([x]) => (isInt(x) ? (x < 0 ? -x | 0 : x) : box(Math.abs(num(x)))),
  'math.sqrt': ([x]) => box(Math.sqrt(num(x))),
  'math.max': (args) => extreme(args, false),
  'math.min': (args) => extreme(args, true),
  tostring: ([v]) => tostring(v),
  type: (args) => (args.length === 0 ? bail() : luaType(args[0])),
  tonumber: ([v]) => (typeof v === 'number' || v instanceof LuaFloat ? v : bail()),
  'string.upper': ([s]) => (typeof s === 'string' && ASCII.test(s) ? s.toUpperCase() : bail()),
  'string.lower': ([s]) => (typeof s === 'string' && ASCII.test(s) ? s.toLowerCase() : bail()),
  'string.len': ([s]) => (typeof s === 'string' ? len(s) : bail()),
};

function extreme(args: unknown[], min: boolean): unknown {
  if (args.length === 0) return bail();
  let best = args[0];
  num(best);
  for (let i = 1; i < args.length; i++) {
    const x = num(args[i]);
    if (min ? x < num(best) : num(best) < x) best = args[i];
  }
  return best;
}

const CONSTANTS: Record<string, unknown> = {
  'math.huge': Infinity,
  'math.pi': Math.PI,
  'math.maxinteger': 2147483647,
  'math.mininteger': -2147483648,
};

/** The standard paths {@link CompileEnv.isStandard} is asked about. */
export const STANDARD_PATHS = [...Object.keys(BUILTINS), ...Object.keys(CONSTANTS)];

class Scope {
  private readonly names = new Map<string, number>();
  constructor(
    readonly parent: Scope | undefined,
    readonly counter: { n: number },
  ) {}
  find(name: string): number | undefined {
    return this.names.get(name) ?? this.parent?.find(name);
  }
  declare(name: string): number {
    const slot = this.counter.n++;
    this.names.set(name, slot);
    return slot;
  }
}

class Compiler {
  constructor(private readonly env: CompileEnv) {}

  /** `math.floor` for `math.floor` written as an index of a name not shadowed by a local. */
  private stdPath(e: Expr, scope: Scope): string | undefined {
    if (e.k === 'name' && scope.find(e.name) === undefined && this.env.upvalueIndex(e.name) === undefined) return e.name;
    if (e.k === 'index' && e.key.k === 'str' && e.obj.k === 'name') {
      const base = this.stdPath(e.obj, scope);
      return base === undefined ? undefined : `${base}.${e.key.v}`;
    }
    return undefined;
  }

  expr(e: Expr, scope: Scope): Ev {
    switch (e.k) {
      case 'nil':
        return () => undefined;
      case 'bool': {
        const v = e.v;
        return () => v;
      }
      case 'num': {
        const v = e.int ? e.v : box(e.v);
        return () => v;
      }
      case 'str': {
        const v = e.v;
        return () => v;
      }
      case 'paren':
        return this.expr(e.e, scope);
      case 'name': {
        const slot = scope.find(e.name);
        if (slot !== undefined) return (f) => f.s[slot];
        const up = this.env.upvalueIndex(e.name);
        if (up !== undefined) return (f) => f.upv(up);
        throw new Unsupported(`global '${e.name}'`);
      }
      case 'index': {
        const path = this.stdPath(e, scope);
        if (path !== undefined) {
          if (!(path in CONSTANTS) || !this.env.isStandard(path)) throw new Unsupported(`global '${path}'`);
          const v = CONSTANTS[path];
          return () => v;
        }
        const obj = this.expr(e.obj, scope);
        if (e.key.k === 'str') {
          const key = e.key.v;
          return (f) => get(obj(f), key);
        }
        const key = this.expr(e.key, scope);
        return (f) => get(obj(f), key(f));
      }
      case 'call': {
        const path = this.stdPath(e.fn, scope);
        if (path === undefined || !(path in BUILTINS) || !this.env.isStandard(path)) throw new Unsupported('call');
        const fn = BUILTINS[path];
        const args = e.args.map((a) => this.expr(a, scope));
        if (args.length === 1) {
          const a0 = args[0];
          return (f) => fn([a0(f)]);
        }
        return (f) => fn(args.map((a) => a(f)));
      }
      case 'un': {
        const a = this.expr(e.a, scope);
        if (e.op === 'not') return (f) => !truthy(a(f));
        if (e.op === '#') return (f) => len(a(f));
        return (f) => {
          const v = a(f);
          return isInt(v) ? -v | 0 : box(-num(v));
        };
      }
      case 'bin':
        return this.binary(e.op, this.expr(e.a, scope), this.expr(e.b, scope));
      case 'table':
        return this.table(e, scope);
    }
  }

  private binary(op: string, a: Ev, b: Ev): Ev {
    switch (op) {
      case 'and':
        return (f) => {
          const x = a(f);
          return truthy(x) ? b(f) : x;
        };
      case 'or':
        return (f) => {
          const x = a(f);
          return truthy(x) ? x : b(f);
        };
      case '==':
        return (f) => eq(a(f), b(f));
      case '~=':
        return (f) => !eq(a(f), b(f));
      case '<':
        return (f) => lt(a(f), b(f), false);
      case '<=':
        return (f) => lt(a(f), b(f), true);
      case '>':
        return (f) => {
          const x = a(f);
          return lt(b(f), x, false);
        };
      case '>=':
        return (f) => {
          const x = a(f);
          return lt(b(f), x, true);
        };
      case '..':
        return (f) => {
          const x = text(a(f));
          const s = x + text(b(f));
          return s.length > 1_000_000 ? bail() : s;
        };
      case '+':
        return (f) => {
          const x = a(f);
          const y = b(f);
          return isInt(x) && isInt(y) ? (x + y) | 0 : arith('+', x, y);
        };
      case '*':
        return (f) => {
          const x = a(f);
          const y = b(f);
          return isInt(x) && isInt(y) ? Math.imul(x, y) : arith('*', x, y);
        };
      default:
        return (f) => {
          const x = a(f);
          return arith(op, x, b(f));
        };
    }
  }

  private table(e: Extract<Expr, { k: 'table' }>, scope: Scope): Ev {
    const names = e.items.map((i) => (i.key?.k === 'str' ? i.key.v : undefined));
    if (names.length > 0 && names.every((n) => n !== undefined) && new Set(names).size === names.length) {
      const keys = names as string[];
      const values = e.items.map((i) => this.expr(i.value, scope));
      return (f) => {
        const vals = new Array<unknown>(values.length);
        for (let i = 0; i < values.length; i++) vals[i] = values[i](f);
        return new LRecord(keys, vals);
      };
    }
    const keyed = e.items.filter((i) => i.key).map((i) => ({ key: this.expr(i.key!, scope), value: this.expr(i.value, scope) }));
    const positional = e.items.filter((i) => !i.key).map((i) => this.expr(i.value, scope));
    // Lua evaluates items in order; keyed ones are stored at once, positional ones at the end
    // (SETLIST). Evaluation order does not matter here (pure), storage order does.
    const order = e.items.map((i) => (i.key ? 'k' : 'p'));
    return (f) => {
      const t = new LTable();
      const pos: unknown[] = [];
      let ki = 0;
      let pi = 0;
      for (const o of order) {
        if (o === 'k') {
          const item = keyed[ki++];
          const k = tableKey(item.key(f));
          const v = item.value(f);
          if (v === undefined) t.map.delete(k);
          else t.map.set(k, v);
        } else {
          const v = positional[pi++](f);
          if (v === undefined) return bail();
          pos.push(v);
        }
      }
      for (let i = 0; i < pos.length; i++) t.map.set(i + 1, pos[i]);
      return t;
    };
  }

  block(stats: Stat[], scope: Scope): Ex {
    const inner = new Scope(scope, scope.counter);
    const list = stats.map((s) => this.statement(s, inner));
    if (list.length === 1) return list[0];
    return (f) => {
      for (const s of list) if (s(f)) return true;
      return false;
    };
  }

  private statement(s: Stat, scope: Scope): Ex {
    switch (s.k) {
      case 'return': {
        if (!s.e) {
          return (f) => {
            f.ret = undefined;
            return true;
          };
        }
        const e = this.expr(s.e, scope);
        return (f) => {
          f.ret = e(f);
          return true;
        };
      }
      case 'local': {
        const exprs = s.exprs.map((x) => this.expr(x, scope));
        const slots = s.names.map((n) => scope.declare(n));
        return (f) => {
          const values = exprs.map((x) => x(f));
          for (let i = 0; i < slots.length; i++) f.s[slots[i]] = values[i];
          return false;
        };
      }
      case 'assign': {
        const exprs = s.exprs.map((x) => this.expr(x, scope));
        const slots = s.names.map((n) => {
          const slot = scope.find(n);
          if (slot === undefined) throw new Unsupported(`assignment to '${n}'`);
          return slot;
        });
        return (f) => {
          const values = exprs.map((x) => x(f));
          for (let i = 0; i < slots.length; i++) f.s[slots[i]] = values[i];
          return false;
        };
      }
      case 'do':
        return this.block(s.body, scope);
      case 'if': {
        const conds = s.conds.map((c) => this.expr(c, scope));
        const blocks = s.blocks.map((b) => this.block(b, scope));
        const otherwise = s.otherwise ? this.block(s.otherwise, scope) : undefined;
        return (f) => {
          for (let i = 0; i < conds.length; i++) if (truthy(conds[i](f))) return blocks[i](f);
          return otherwise ? otherwise(f) : false;
        };
      }
    }
  }
}

/** The upvalue reader a frame holds between calls. */
const noUpvalue = (): unknown => undefined;

/**
 * Compiles a parsed node function into JS closures, or throws {@link Unsupported} when it
 * reads globals other than untouched standard functions, assigns to anything but its own
 * locals, or calls anything else. The result takes the payload and gives the JS value the VM
 * would have given — or throws {@link BAIL} for the caller to run the call on the VM.
 *
 * @example
 * ```ts
 * const ast = functionAt(tokenize(src), line, lastLine, 1)!;
 * const fn = compileFunction(ast, { upvalueIndex: () => undefined, isStandard: () => true });
 * fn({ stake: 10, odds: 1.5 }, () => undefined); // what `function(b) return b.stake * (b.odds - 1) end` returns: 5
 * ```
 */
export function compileFunction(ast: FunctionAst, env: CompileEnv): Compiled {
  const counter = { n: 0 };
  const scope = new Scope(undefined, counter);
  const params = ast.params.map((p) => scope.declare(p));
  const body = new Compiler(env).block(ast.body, scope);
  const size = Math.max(counter.n, 1);
  const first = params[0];
  // One frame, cleared per call: a compiled function calls no Lua function, so no call of it
  // can start while another runs (a bail throws out of it, and the next call clears what it left).
  const f: Frame = { s: new Array<unknown>(size).fill(undefined), upv: noUpvalue, ret: undefined };
  return (payload, upvalue) => {
    const s = f.s;
    for (let i = 0; i < size; i++) s[i] = undefined;
    f.upv = upvalue;
    f.ret = undefined;
    if (first !== undefined) s[first] = read(payload);
    body(f);
    const ret = f.ret;
    f.ret = undefined;
    return out(ret);
  };
}
