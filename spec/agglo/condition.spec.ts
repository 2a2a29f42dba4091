import { alwaysTrue, compileCondition, flatten, resolvePath } from '../../lib/agglo/condition';

const v = (name: string) => ({ variable: { name } });
const lit = (literal: string) => ({ literal });
const num = (numeric: number) => ({ numeric });
const cmp = (lhs: object, op: string, rhs: object) => ({ comparator: { lhs, rhs, op } });
const cond = (expression: object) => compileCondition({ expression });
const ex = (expression: object) => ({ expression });
const bin = (lhs: object, op: string, rhs: object) => ({ binary: { lhs, rhs, op } });

describe('agglo conditions', () => {
  describe('empty condition', () => {
    it('holds for every event, absent, null or {}', () => {
      expect(compileCondition(undefined)).toBe(alwaysTrue);
      expect(compileCondition(null).test({})).toBe(true);
      expect(compileCondition({}).always).toBe(true);
    });
  });

  describe('exists', () => {
    const c = compileCondition({
      exists: {
        ops: [
          { key: 'pusher.name', op: 'Exists' },
          { key: 'vcs_revision', op: 'NotExists' },
        ],
      },
    });
    it('holds when every Exists key is there and every NotExists key is not', () => {
      expect(c.test({ pusher: { name: 'kim' } })).toBe(true);
      expect(c.test({ pusher: { name: 'kim' }, vcs_revision: 'abc' })).toBe(false);
      expect(c.test({ pusher: {} })).toBe(false);
    });
    it('matches interior paths, not only leaves (agglo bug fixed)', () => {
      const interior = compileCondition({ exists: { ops: [{ key: 'foo.bar', op: 'Exists' }] } });
      expect(interior.test({ foo: { bar: { baz: 1 } } })).toBe(true);
      expect(interior.test({ foo: { bar: {} } })).toBe(true);
      expect(interior.test({ foo: { ba: 1 } })).toBe(false);
    });
    it('counts a null value as present and reaches into lists by index', () => {
      const c2 = compileCondition({
        exists: {
          ops: [
            { key: 'a.1.b', op: 'Exists' },
            { key: 'n', op: 'Exists' },
          ],
        },
      });
      expect(c2.test({ a: [{}, { b: 2 }], n: null })).toBe(true);
      expect(c2.test({ a: [{ b: 2 }], n: null })).toBe(false);
    });
    it('treats a left-out op as Exists (as agglo does) and an empty list as true', () => {
      const c3 = compileCondition({ exists: { ops: [{ key: 'x' }] } });
      expect(c3.test({ x: 0 })).toBe(true);
      expect(c3.test({})).toBe(false);
      expect(compileCondition({ exists: { ops: [] } }).test({})).toBe(true);
    });
    it('requires a key', () => {
      expect(() => compileCondition({ exists: { ops: [{ op: 'Exists' }] } }, 'c')).toThrow('c.exists.ops[0].key: is required');
    });
  });

  describe('comparators', () => {
    const e = { n: 5, s: 'abc', t: 'true', b: true, nested: { x: { y: 2.5 } }, list: [1, 2] };
    it.each([
      ['GreaterThan', num(4), true],
      ['GreaterThan', num(5), false],
      ['LessThan', num(6), true],
      ['LessThan', num(5), false],
      ['GreaterThanOrEqual', num(5), true],
      ['GreaterThanOrEqual', num(6), false],
      ['LessThanOrEqual', num(5), true],
      ['LessThanOrEqual', num(4), false],
      ['Equal', num(5), true],
      ['Equal', num(5.5), false],
      ['NotEqual', num(4), true],
      ['NotEqual', num(5), false],
    ])('[n] %s %j is %s', (op, rhs, want) => {
      expect(cond(cmp(v('n'), op as string, rhs as object)).test(e)).toBe(want);
    });
    it('compares strings exactly and in code-unit order', () => {
      expect(cond(cmp(v('s'), 'Equal', lit('abc'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'Equal', lit('ABC'))).test(e)).toBe(false);
      expect(cond(cmp(v('s'), 'LessThan', lit('abd'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'GreaterThan', lit('abd'))).test(e)).toBe(false);
    });
    it('does not coerce types: "true" is not true, "5" is not 5; ordering across types is false', () => {
      expect(cond(cmp(v('t'), 'Equal', lit('true'))).test(e)).toBe(true);
      expect(cond(cmp(v('b'), 'Equal', lit('true'))).test(e)).toBe(false);
      expect(cond(cmp(v('n'), 'Equal', lit('5'))).test(e)).toBe(false);
      expect(cond(cmp(v('n'), 'NotEqual', lit('5'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'GreaterThan', num(1))).test(e)).toBe(false);
      expect(cond(cmp(v('s'), 'LessThanOrEqual', num(1))).test(e)).toBe(false);
    });
    it('reads nested variables as dot paths (agglo bug fixed: they failed outside annotate/transform)', () => {
      expect(cond(cmp(v('nested.x.y'), 'Equal', num(2.5))).test(e)).toBe(true);
      expect(cond(cmp(v('list.1'), 'Equal', num(2))).test(e)).toBe(true);
      expect(cond(cmp(v('nested.x.y'), 'LessThan', v('n'))).test(e)).toBe(true);
    });
    it('finds keys that contain dots, as in an already flattened event', () => {
      expect(cond(cmp(v('a.b.c'), 'Equal', num(1))).test({ 'a.b': { c: 1 } })).toBe(true);
      expect(cond(cmp(v('a.b.c'), 'Equal', num(1))).test({ a: { 'b.c': 1 } })).toBe(true);
    });
    it('makes any comparison with a missing variable false, NotEqual included', () => {
      for (const op of ['Equal', 'NotEqual', 'GreaterThan', 'LessThan', 'RegexMatch', 'RegexNotMatch']) {
        expect(cond(cmp(v('nope'), op, lit('x'))).test(e)).toBe(false);
        expect(cond(cmp(lit('x'), op, v('nope'))).test(e)).toBe(false);
      }
    });
    it('compares literals with literals', () => {
      expect(cond(cmp(lit('a'), 'Equal', lit('a'))).test({})).toBe(true);
      expect(cond(cmp(num(1), 'LessThan', num(2))).test({})).toBe(true);
    });
    it('RegexMatch searches the left string with the right pattern (Go syntax, unanchored)', () => {
      expect(cond(cmp(v('s'), 'RegexMatch', lit('^a.c$'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'RegexMatch', lit('b'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'RegexMatch', lit('^b'))).test(e)).toBe(false);
      expect(cond(cmp(v('s'), 'RegexMatch', lit('(?i)^ABC$'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'RegexMatch', lit('^(?P<first>a)'))).test(e)).toBe(true);
    });
    it('RegexNotMatch is the negation for strings, false for non-strings', () => {
      expect(cond(cmp(v('s'), 'RegexNotMatch', lit('^b'))).test(e)).toBe(true);
      expect(cond(cmp(v('s'), 'RegexNotMatch', lit('^a'))).test(e)).toBe(false);
      expect(cond(cmp(v('n'), 'RegexNotMatch', lit('^a'))).test(e)).toBe(false);
      expect(cond(cmp(v('n'), 'RegexMatch', lit('5'))).test(e)).toBe(false);
    });
    it('takes the pattern from a variable too; a bad pattern there is false, not an error', () => {
      expect(cond(cmp(v('s'), 'RegexMatch', v('p'))).test({ s: 'abc', p: 'b+' })).toBe(true);
      expect(cond(cmp(v('s'), 'RegexMatch', v('p'))).test({ s: 'abc', p: '(' })).toBe(false);
    });
    it('rejects a bad literal pattern when compiled, naming the field', () => {
      expect(() => compileCondition({ expression: cmp(v('s'), 'RegexMatch', lit('(')) }, 'x')).toThrow(
        'x.expression.comparator.rhs.literal: invalid regex "("',
      );
    });
    it('compares whole objects and lists structurally', () => {
      expect(cond(cmp(v('list'), 'Equal', v('copy'))).test({ list: [1, { a: 2 }], copy: [1, { a: 2 }] })).toBe(true);
      expect(cond(cmp(v('list'), 'Equal', v('copy'))).test({ list: [1, { a: 2 }], copy: [1, { a: 3 }] })).toBe(false);
    });
    it('accepts enum numbers and numeric strings as protobuf-JSON does', () => {
      expect(cond(cmp(v('n'), 23 as unknown as string, { numeric: '5' as unknown as number })).test(e)).toBe(true);
    });
  });

  describe('logical', () => {
    const isA = cmp(v('k'), 'Equal', lit('a'));
    const big = cmp(v('n'), 'GreaterThan', num(10));
    it('LogicalAnd needs both', () => {
      const c = cond({ logical: { lhs: ex(isA), rhs: ex(big), op: 'LogicalAnd' } });
      expect(c.test({ k: 'a', n: 11 })).toBe(true);
      expect(c.test({ k: 'a', n: 1 })).toBe(false);
      expect(c.test({ k: 'b', n: 11 })).toBe(false);
    });
    it('LogicalOr needs either (agglo bug fixed: it was built as And)', () => {
      const c = cond({ logical: { lhs: ex(isA), rhs: ex(big), op: 'LogicalOr' } });
      expect(c.test({ k: 'a', n: 1 })).toBe(true);
      expect(c.test({ k: 'b', n: 11 })).toBe(true);
      expect(c.test({ k: 'b', n: 1 })).toBe(false);
    });
    it('a missing variable falsifies only its own comparison (agglo made the whole tree false)', () => {
      const c = cond({ logical: { lhs: ex(isA), rhs: ex(big), op: 'LogicalOr' } });
      expect(c.test({ k: 'a' })).toBe(true);
      expect(c.test({ n: 11 })).toBe(true);
    });
    it('nests', () => {
      const inner = { logical: { lhs: ex(isA), rhs: ex(big), op: 'LogicalAnd' } };
      const c = cond({ logical: { lhs: ex(inner), rhs: ex(cmp(v('force'), 'Equal', num(1))), op: 'LogicalOr' } });
      expect(c.test({ force: 1 })).toBe(true);
      expect(c.test({ k: 'a', n: 20 })).toBe(true);
      expect(c.test({ k: 'a', n: 2 })).toBe(false);
    });
    it('rejects non-expression and arithmetic operands', () => {
      expect(() => cond({ logical: { lhs: v('a'), rhs: ex(isA), op: 'LogicalAnd' } })).toThrow(
        'condition.expression.logical.lhs: the operands of a logical expression must be expressions, not a variable',
      );
      expect(() => cond({ logical: { lhs: ex(bin(num(1), 'Addition', num(2))), rhs: ex(isA), op: 'LogicalAnd' } })).toThrow(
        'is arithmetic',
      );
    });
  });

  describe('binary arithmetic', () => {
    const is = (lhs: object, op: string, rhs: object, want: number, event: object = {}) =>
      expect(cond(cmp(ex(bin(lhs, op, rhs)), 'Equal', num(want))).test(event)).toBe(true);
    it.each([
      ['Addition', 7, 2, 9],
      ['Subtract', 7, 2, 5],
      ['Multiply', 7, 2, 14],
      ['Divide', 7, 2, 3.5],
      ['Power', 7, 2, 49],
      ['Modulus', 7, 2, 1],
      ['Modulus', -7, 2, -1],
      ['RightShift', 7, 1, 3],
      ['LeftShift', 7, 2, 28],
      ['Or', 5, 2, 7],
      ['And', 6, 3, 2],
      ['Xor', 6, 3, 5],
    ])('%s(%d, %d) = %d', (op, a, b, want) => {
      is(num(a as number), op as string, num(b as number), want as number);
      is(v('a'), op as string, v('b'), want as number, { a, b });
    });
    it('works on 64-bit integers for bitwise operators', () => {
      is(num(2 ** 40), 'Or', num(1), 2 ** 40 + 1);
      is(num(1), 'LeftShift', num(40), 2 ** 40);
    });
    it('nests expressions as operands (sum of two fields compared with a third)', () => {
      const c = cond(cmp(ex(bin(ex(bin(v('a'), 'Addition', v('b'))), 'Multiply', num(2))), 'GreaterThan', v('c')));
      expect(c.test({ a: 1, b: 2, c: 5 })).toBe(true);
      expect(c.test({ a: 1, b: 2, c: 6 })).toBe(false);
    });
    it('makes the comparison false when an operand is missing or not a number', () => {
      const c = cond(cmp(ex(bin(v('a'), 'Addition', num(1))), 'NotEqual', num(0)));
      expect(c.test({ a: 1 })).toBe(true);
      expect(c.test({})).toBe(false);
      expect(c.test({ a: 'x' })).toBe(false);
    });
    it('concatenates two strings with Addition (govaluate does)', () => {
      expect(cond(cmp(ex(bin(v('a'), 'Addition', v('b'))), 'Equal', lit('xy'))).test({ a: 'x', b: 'y' })).toBe(true);
    });
    it('is refused as a whole condition: it is not true or false', () => {
      expect(() => cond(bin(num(1), 'Addition', num(2)))).toThrow('a condition must be true or false');
    });
    it('rejects string literal operands and a missing op', () => {
      expect(() => cond(cmp(ex(bin(lit('1'), 'Addition', num(2))), 'Equal', num(3)))).toThrow('not a string literal');
      expect(() => cond(cmp(ex({ binary: { lhs: num(1), rhs: num(2) } }), 'Equal', num(3)))).toThrow(
        'condition.expression.comparator.lhs.expression.binary.op: is required',
      );
    });
  });

  describe('unary', () => {
    it('Negation negates a number', () => {
      const c = cond(cmp(ex({ unary: { rhs: v('a'), op: 'Negation' } }), 'Equal', num(-3)));
      expect(c.test({ a: 3 })).toBe(true);
      expect(c.test({ a: -3 })).toBe(false);
      expect(c.test({})).toBe(false);
      expect(cond(cmp(ex({ unary: { rhs: num(2.5), op: 'Negation' } }), 'Equal', num(-2.5))).test({})).toBe(true);
    });
    it('Inversion is the bitwise complement', () => {
      expect(cond(cmp(ex({ unary: { rhs: num(5), op: 'Inversion' } }), 'Equal', num(-6))).test({})).toBe(true);
    });
    it('LogicalNot negates a truth value (a comparison, a boolean variable)', () => {
      const notA = cond({ unary: { rhs: ex(cmp(v('k'), 'Equal', lit('a'))), op: 'LogicalNot' } });
      expect(notA.test({ k: 'a' })).toBe(false);
      expect(notA.test({ k: 'b' })).toBe(true);
      expect(notA.test({})).toBe(true);
      const notFlag = cond({ unary: { rhs: v('flag'), op: 'LogicalNot' } });
      expect(notFlag.test({ flag: false })).toBe(true);
      expect(notFlag.test({ flag: true })).toBe(false);
      expect(notFlag.test({})).toBe(false);
      expect(notFlag.test({ flag: 0 })).toBe(false);
    });
    it('rejects operands of the wrong type', () => {
      expect(() => cond({ unary: { rhs: num(1), op: 'LogicalNot' } })).toThrow('LogicalNot needs true or false');
      expect(() => cond(cmp(ex({ unary: { rhs: ex({ boolean: { value: true } }), op: 'Negation' } }), 'Equal', num(1)))).toThrow(
        'Negation needs a number',
      );
    });
  });

  describe('boolean', () => {
    it('is its value', () => {
      expect(cond({ boolean: { value: true } }).test({})).toBe(true);
      expect(cond({ boolean: { value: false } }).test({})).toBe(false);
      expect(cond({ boolean: {} }).test({})).toBe(false);
    });
  });

  describe('protobuf-JSON errors', () => {
    it('rejects unknown fields with the path and a suggestion', () => {
      expect(() => compileCondition({ expresion: {} }, 'annotations[0].condition')).toThrow(
        "annotations[0].condition: unknown field 'expresion' in Condition (fields: expression, exists) — did you mean 'expression'?",
      );
    });
    it('rejects two oneof members', () => {
      expect(() => compileCondition({ expression: { boolean: { value: true } }, exists: { ops: [] } })).toThrow(
        "'expression' and 'exists' are alternatives",
      );
      expect(() => cond(cmp({ literal: 'a', numeric: 1 }, 'Equal', lit('a')))).toThrow("'literal' and 'numeric' are alternatives");
    });
    it('rejects unknown operator names with a suggestion', () => {
      expect(() => cond(cmp(v('a'), 'Equals', lit('a')))).toThrow('unknown value "Equals"');
      expect(() => cond(cmp(v('a'), 'Equals', lit('a')))).toThrow('did you mean "Equal"?');
    });
    it('rejects missing operands, empty expressions and wrong scalar types', () => {
      expect(() => cond({ comparator: { lhs: v('a'), op: 'Equal' } })).toThrow('condition.expression.comparator.rhs: is required');
      expect(() => compileCondition({ expression: {} })).toThrow('condition.expression: is empty');
      expect(() => cond(cmp({ literal: 5 }, 'Equal', lit('a')))).toThrow('condition.expression.comparator.lhs.literal: must be a string');
      expect(() => cond(cmp(v(''), 'Equal', lit('a')))).toThrow('variable.name: is required');
    });
  });

  describe('text', () => {
    it('renders a readable form', () => {
      expect(cond(cmp(v('a.b'), 'Equal', lit('x'))).text).toBe('([a.b] == "x")');
      expect(
        cond({ logical: { lhs: ex(cmp(v('a'), 'GreaterThan', num(1))), rhs: ex({ boolean: { value: true } }), op: 'LogicalOr' } }).text,
      ).toBe('(([a] > 1) || true)');
    });
  });

  describe('paths', () => {
    it('resolvePath and flatten agree on leaves', () => {
      const event = { a: { b: [1, { c: 'x' }] }, e: {}, f: null };
      const flat = flatten(event);
      expect(flat).toEqual({ 'a.b.0': 1, 'a.b.1.c': 'x', f: null });
      for (const [k, val] of Object.entries(flat)) expect(resolvePath(event, k)).toEqual({ value: val });
      expect(resolvePath(event, 'e')).toEqual({ value: {} });
      expect(resolvePath(event, 'a.b.2')).toBeUndefined();
      expect(resolvePath(event, 'toString')).toBeUndefined();
    });
  });
});
