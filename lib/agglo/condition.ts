// agglo's condition tree (Condition / Expression / ExistsExpression in pipeline.proto), read
// from its protobuf-JSON form and compiled to closures: no eval, no Function, no expression
// strings. Variables are dot paths into the event (`someDict.someFixed`, `list.0`), resolved
// over the event as agglo's flattening would see it; a variable that is missing makes the
// comparison (or arithmetic) that uses it false. Where agglo is wrong, this is right; every
// difference is listed in docs/agglo.md.
import {
  BINARY_OPERATORS,
  COMPARATOR_OPERATORS,
  CONDITION,
  EXPRESSION,
  OPERAND,
  oneofCase,
  protoError,
  readMessage,
  UNARY_OPERATORS,
  type ProtoMessage,
} from './proto';
import { goRegExp } from './regex';

/**
 * A compiled condition.
 *
 * @example
 * ```ts
 * const c = compileCondition({ exists: { ops: [{ key: 'user.id', op: 'Exists' }] } });
 * c.test({ user: { id: 7 } }); // true
 * c.text;                      // 'exists(user.id)'
 * ```
 */
export interface AggloCondition {
  /** True when the condition holds for the event (a JSON object). Never throws. */
  test(event: unknown): boolean;
  /** A readable form for logs and docs, e.g. `([someDict.someFixed] == "foobar")`. */
  readonly text: string;
  /** True for the empty condition (`{}` or absent), which always holds. */
  readonly always: boolean;
}

/** The value of a sub-expression: a JSON value, or MISSING when a variable is absent or the arithmetic undefined. */
const MISSING: unique symbol = Symbol('missing');
type Value = unknown;
type Eval = (event: unknown) => Value;
type Kind = 'bool' | 'num' | 'any';
interface Compiled {
  fn: Eval;
  kind: Kind;
  text: string;
}

/**
 * The condition that always holds (agglo's empty condition).
 *
 * @example
 * ```ts
 * alwaysTrue.test({}); // true
 * ```
 */
export const alwaysTrue: AggloCondition = Object.freeze({ test: () => true, text: 'true', always: true });

/**
 * Compiles a condition from agglo's protobuf-JSON (`{}`, `{ expression: … }` or `{ exists: … }`).
 * Unknown fields, bad operator names, missing operands and expressions of the wrong type
 * (arithmetic where a truth value is needed) are errors naming `path`.
 *
 * @example
 * ```ts
 * const c = compileCondition({
 *   expression: { comparator: { lhs: { variable: { name: 'a.b' } }, rhs: { numeric: 3 }, op: 'GreaterThan' } },
 * }, 'annotations[0].condition');
 * c.test({ a: { b: 4 } }); // true
 * c.test({});              // false: a missing variable makes the comparison false
 * ```
 */
export function compileCondition(json: unknown, path = 'condition'): AggloCondition {
  const msg = readMessage(CONDITION, json, path);
  const which = oneofCase(CONDITION, msg, 'condition');
  if (which === undefined) return alwaysTrue;
  if (which === 'exists') return compileExists(msg.exists as ProtoMessage, `${path}.exists`);
  const expr = compileExpression(msg.expression as ProtoMessage, `${path}.expression`);
  if (expr.kind !== 'bool') {
    throw protoError(
      `${path}.expression`,
      `a condition must be true or false, but ${expr.text} is arithmetic (compare it with a comparator)`,
    );
  }
  const fn = expr.fn;
  return Object.freeze({ test: (event: unknown) => fn(event) === true, text: expr.text, always: false });
}

/**
 * Resolves a dot path in an event: map keys and list indexes separated by `.`; a key that itself
 * contains dots (`"a.b": 1`) is found too. Returns `{ value }` or undefined when absent.
 *
 * @example
 * ```ts
 * resolvePath({ a: { list: [10, 20] } }, 'a.list.1'); // { value: 20 }
 * resolvePath({ 'a.b': 1 }, 'a.b');                   // { value: 1 }
 * resolvePath({ a: {} }, 'a.x');                      // undefined
 * ```
 */
export function resolvePath(event: unknown, path: string): { value: unknown } | undefined {
  const segments = path.split('.');
  // Fast path: plain segments.
  let cur: unknown = event;
  let ok = true;
  for (const s of segments) {
    const next = child(cur, s);
    if (next === undefined) {
      ok = false;
      break;
    }
    cur = next.value;
  }
  if (ok) return { value: cur };
  return segments.length > 1 ? resolveFrom(event, segments, 0) : undefined;
}

function child(node: unknown, key: string): { value: unknown } | undefined {
  if (Array.isArray(node)) {
    if (!/^\d+$/.test(key)) return undefined;
    const i = Number(key);
    return i < node.length ? { value: node[i] } : undefined;
  }
  if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, key)) {
    return { value: (node as Record<string, unknown>)[key] };
  }
  return undefined;
}

function resolveFrom(node: unknown, segments: string[], i: number): { value: unknown } | undefined {
  if (i === segments.length) return { value: node };
  for (let j = segments.length; j > i; j--) {
    const next = child(node, segments.slice(i, j).join('.'));
    if (next === undefined) continue;
    const found = resolveFrom(next.value, segments, j);
    if (found) return found;
  }
  return undefined;
}

/**
 * Flattens an event the way agglo does: leaf values by dot path (`a.b`, `list.0`); empty maps and
 * lists have no leaves and disappear.
 *
 * @example
 * ```ts
 * flatten({ a: { b: 1 }, l: [2, 3] }); // { 'a.b': 1, 'l.0': 2, 'l.1': 3 }
 * ```
 */
export function flatten(event: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (v: unknown, key: string) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, key ? `${key}.${i}` : String(i)));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
    else out[key] = v;
  };
  walk(event, '');
  return out;
}

function compileExists(msg: ProtoMessage, path: string): AggloCondition {
  const ops = (msg.ops as ProtoMessage[]).map((op, i) => {
    const key = op.key as string;
    if (!key) throw protoError(`${path}.ops[${i}].key`, 'is required (the dot path to test)');
    // agglo treats an operator left out (UnknownExists) as Exists.
    return { key, negate: op.op === 'NotExists' };
  });
  const text = ops.length ? ops.map((o) => `${o.negate ? '!' : ''}exists(${o.key})`).join(' && ') : 'true';
  return Object.freeze({
    test: (event: unknown) => ops.every((o) => (resolvePath(event, o.key) !== undefined) !== o.negate),
    text,
    always: ops.length === 0,
  });
}

function compileExpression(msg: ProtoMessage, path: string): Compiled {
  const which = oneofCase(EXPRESSION, msg, 'expression');
  switch (which) {
    case undefined:
      throw protoError(path, 'is empty: give one of boolean, comparator, logical, binary, unary');
    case 'boolean': {
      const value = (msg.boolean as ProtoMessage).value === true;
      return { fn: () => value, kind: 'bool', text: String(value) };
    }
    case 'comparator':
      return compileComparator(msg.comparator as ProtoMessage, `${path}.comparator`);
    case 'logical':
      return compileLogical(msg.logical as ProtoMessage, `${path}.logical`);
    case 'binary':
      return compileBinary(msg.binary as ProtoMessage, `${path}.binary`);
    case 'unary':
      return compileUnary(msg.unary as ProtoMessage, `${path}.unary`);
    default:
      throw protoError(path, `unsupported expression '${which}'`);
  }
}

interface OperandInfo extends Compiled {
  which: 'expression' | 'variable' | 'literal' | 'numeric';
  literal?: unknown;
}

function compileOperand(raw: unknown, path: string): OperandInfo {
  if (raw === undefined) throw protoError(path, 'is required (one of expression, variable, literal, numeric)');
  const msg = raw as ProtoMessage;
  const which = oneofCase(OPERAND, msg, 'operand') as OperandInfo['which'] | undefined;
  switch (which) {
    case undefined:
      throw protoError(path, 'is empty: give one of expression, variable, literal, numeric');
    case 'expression':
      return { ...compileExpression(msg.expression as ProtoMessage, `${path}.expression`), which };
    case 'variable': {
      const name = (msg.variable as ProtoMessage).name as string;
      if (!name) throw protoError(`${path}.variable.name`, 'is required (a dot path into the event)');
      const fn: Eval = (event) => {
        const found = resolvePath(event, name);
        return found === undefined ? MISSING : found.value;
      };
      return { fn, kind: 'any', text: `[${name}]`, which };
    }
    case 'literal': {
      const value = msg.literal as string;
      return { fn: () => value, kind: 'any', text: JSON.stringify(value), which, literal: value };
    }
    case 'numeric': {
      const value = msg.numeric as number;
      return { fn: () => value, kind: 'num', text: String(value), which, literal: value };
    }
  }
}

const COMPARATOR_TEXT: Record<string, string> = {
  GreaterThan: '>',
  LessThan: '<',
  GreaterThanOrEqual: '>=',
  LessThanOrEqual: '<=',
  Equal: '==',
  NotEqual: '!=',
  RegexMatch: '=~',
  RegexNotMatch: '!~',
};

function requireOp(op: unknown, names: Record<string, number>, path: string): string {
  const name = op as string;
  if (names[name] === 0) {
    throw protoError(
      `${path}.op`,
      `is required (one of: ${Object.keys(names)
        .filter((n) => names[n] !== 0)
        .join(', ')})`,
    );
  }
  return name;
}

function compileComparator(msg: ProtoMessage, path: string): Compiled {
  const op = requireOp(msg.op, COMPARATOR_OPERATORS, path);
  const lhs = compileOperand(msg.lhs, `${path}.lhs`);
  const rhs = compileOperand(msg.rhs, `${path}.rhs`);
  const l = lhs.fn;
  const r = rhs.fn;
  const text = `(${lhs.text} ${COMPARATOR_TEXT[op]} ${rhs.text})`;
  let fn: Eval;
  if (op === 'RegexMatch' || op === 'RegexNotMatch') {
    const want = op === 'RegexMatch';
    let fixed: RegExp | undefined;
    if (rhs.which === 'literal') fixed = goRegExp(rhs.literal as string, `${path}.rhs.literal`);
    else if (rhs.which === 'numeric') throw protoError(`${path}.rhs`, 'a regex must be a string literal or a variable');
    const cache = new Map<string, RegExp | null>();
    const patternOf = (p: unknown): RegExp | null => {
      if (typeof p !== 'string') return null;
      let re = cache.get(p);
      if (re === undefined) {
        try {
          re = goRegExp(p, 'regex');
        } catch {
          re = null;
        }
        if (cache.size > 256) cache.clear();
        cache.set(p, re);
      }
      return re;
    };
    fn = (event) => {
      const s = l(event);
      if (typeof s !== 'string') return false;
      const re = fixed ?? patternOf(r(event));
      if (!re) return false;
      re.lastIndex = 0;
      return re.test(s) === want;
    };
  } else {
    const compare = COMPARE[op];
    fn = (event) => {
      const a = l(event);
      if (a === MISSING) return false;
      const b = r(event);
      if (b === MISSING) return false;
      return compare(a, b);
    };
  }
  return { fn, kind: 'bool', text };
}

function ordered(a: unknown, b: unknown): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) || Number.isNaN(b) ? undefined : a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => equal(x, bb[i]));
  }
  const ak = Object.keys(a);
  const bo = b as Record<string, unknown>;
  return (
    ak.length === Object.keys(bo).length &&
    ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && equal((a as Record<string, unknown>)[k], bo[k]))
  );
}

const COMPARE: Record<string, (a: unknown, b: unknown) => boolean> = {
  Equal: equal,
  NotEqual: (a, b) => !equal(a, b),
  GreaterThan: (a, b) => (ordered(a, b) ?? NaN) > 0,
  LessThan: (a, b) => (ordered(a, b) ?? NaN) < 0,
  GreaterThanOrEqual: (a, b) => (ordered(a, b) ?? NaN) >= 0,
  LessThanOrEqual: (a, b) => (ordered(a, b) ?? NaN) <= 0,
};

function compileLogical(msg: ProtoMessage, path: string): Compiled {
  const op = requireOp(msg.op, { UnknownLogical: 0, LogicalAnd: 17, LogicalOr: 18 }, path);
  const side = (raw: unknown, p: string) => {
    const o = compileOperand(raw, p);
    if (o.which !== 'expression') throw protoError(p, `the operands of a logical expression must be expressions, not a ${o.which}`);
    if (o.kind !== 'bool') throw protoError(p, `${o.text} is arithmetic, not true or false`);
    return o;
  };
  const lhs = side(msg.lhs, `${path}.lhs`);
  const rhs = side(msg.rhs, `${path}.rhs`);
  const l = lhs.fn;
  const r = rhs.fn;
  if (op === 'LogicalAnd') return { fn: (e) => l(e) === true && r(e) === true, kind: 'bool', text: `(${lhs.text} && ${rhs.text})` };
  return { fn: (e) => l(e) === true || r(e) === true, kind: 'bool', text: `(${lhs.text} || ${rhs.text})` };
}

const BINARY_TEXT: Record<string, string> = {
  Addition: '+',
  Subtract: '-',
  Multiply: '*',
  Divide: '/',
  Power: '**',
  Modulus: '%',
  RightShift: '>>',
  LeftShift: '<<',
  Or: '|',
  And: '&',
  Xor: '^',
};

function int64(x: number): bigint | undefined {
  return Number.isFinite(x) ? BigInt.asIntN(64, BigInt(Math.trunc(x))) : undefined;
}

function bitwise(f: (a: bigint, b: bigint) => bigint): (a: number, b: number) => unknown {
  return (a, b) => {
    const x = int64(a);
    const y = int64(b);
    if (x === undefined || y === undefined) return MISSING;
    return Number(BigInt.asIntN(64, f(x, y)));
  };
}

function shift(f: (a: bigint, b: bigint) => bigint): (a: number, b: number) => unknown {
  const g = bitwise(f);
  return (a, b) => (b < 0 || b > 63 ? MISSING : g(a, b));
}

const ARITHMETIC: Record<string, (a: number, b: number) => unknown> = {
  Addition: (a, b) => a + b,
  Subtract: (a, b) => a - b,
  Multiply: (a, b) => a * b,
  Divide: (a, b) => a / b,
  Power: (a, b) => a ** b,
  Modulus: (a, b) => a % b,
  RightShift: shift((a, b) => a >> b),
  LeftShift: shift((a, b) => a << b),
  Or: bitwise((a, b) => a | b),
  And: bitwise((a, b) => a & b),
  Xor: bitwise((a, b) => a ^ b),
};

function arithmeticOperand(raw: unknown, p: string): OperandInfo {
  const o = compileOperand(raw, p);
  if (o.which === 'literal') throw protoError(p, 'arithmetic operands must be numeric, a variable or an expression, not a string literal');
  if (o.kind === 'bool') throw protoError(p, `${o.text} is true or false, not a number`);
  return o;
}

function compileBinary(msg: ProtoMessage, path: string): Compiled {
  const op = requireOp(msg.op, BINARY_OPERATORS, path);
  const lhs = arithmeticOperand(msg.lhs, `${path}.lhs`);
  const rhs = arithmeticOperand(msg.rhs, `${path}.rhs`);
  const l = lhs.fn;
  const r = rhs.fn;
  const f = ARITHMETIC[op];
  const concat = op === 'Addition';
  const fn: Eval = (event) => {
    const a = l(event);
    const b = r(event);
    if (typeof a === 'number' && typeof b === 'number') return f(a, b);
    if (concat && typeof a === 'string' && typeof b === 'string') return a + b;
    return MISSING;
  };
  return { fn, kind: concat ? 'any' : 'num', text: `(${lhs.text} ${BINARY_TEXT[op]} ${rhs.text})` };
}

function compileUnary(msg: ProtoMessage, path: string): Compiled {
  const op = requireOp(msg.op, UNARY_OPERATORS, path);
  const rhs = compileOperand(msg.rhs, `${path}.rhs`);
  const r = rhs.fn;
  if (rhs.which === 'literal')
    throw protoError(`${path}.rhs`, 'a unary operand must be numeric, a variable or an expression, not a string literal');
  if (op === 'LogicalNot') {
    if (rhs.kind === 'num') throw protoError(`${path}.rhs`, `${rhs.text} is a number: LogicalNot needs true or false`);
    return {
      fn: (e) => {
        const v = r(e);
        return typeof v === 'boolean' ? !v : MISSING;
      },
      kind: 'bool',
      text: `(!${rhs.text})`,
    };
  }
  if (rhs.kind === 'bool') throw protoError(`${path}.rhs`, `${rhs.text} is true or false: ${op} needs a number`);
  if (op === 'Negation') {
    return {
      fn: (e) => {
        const v = r(e);
        return typeof v === 'number' ? -v : MISSING;
      },
      kind: 'num',
      text: `(-${rhs.text})`,
    };
  }
  // Inversion: bitwise complement of the 64-bit integer part.
  return {
    fn: (e) => {
      const v = r(e);
      const x = typeof v === 'number' ? int64(v) : undefined;
      return x === undefined ? MISSING : Number(BigInt.asIntN(64, ~x));
    },
    kind: 'num',
    text: `(~${rhs.text})`,
  };
}
