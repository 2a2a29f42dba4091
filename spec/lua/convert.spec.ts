import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

/** Sends a value into Lua through an export and back out, optionally transformed by Lua code. */
function roundTrip(value: unknown, lua = 'return v'): unknown {
  const runtime = new LuaRuntime(new Network());
  runtime.export('value', () => value);
  try {
    return runtime.runString(`local v = require('tributary').value()\n${lua}`, 'convert.lua');
  } finally {
    runtime.close();
  }
}

describe('value conversion between Lua and JS', () => {
  it.each([
    ['a string', 'héllo'],
    ['an integer', 42],
    ['a negative integer', -7],
    ['a float', 2.5],
    ['true', true],
    ['false', false],
    ['an array', [1, 'two', false]],
    ['an object', { a: 1, nested: { b: [1, 2] } }],
    ['an empty array', []],
  ])('round-trips %s', (_, value) => {
    expect(roundTrip(value)).toEqual(value);
  });

  it('integers stay integers in Lua, floats stay floats', () => {
    expect(roundTrip(3, 'return math.type(v)')).toBe('integer');
    expect(roundTrip(3.5, 'return math.type(v)')).toBe('float');
    // fengari's integers are 32-bit: larger JS integers arrive as floats and keep their value.
    expect(roundTrip(2 ** 40, 'return { math.type(v), v + 1 }')).toEqual(['float', 2 ** 40 + 1]);
    expect(roundTrip(0, 'return 7 // 2')).toBe(3);
  });

  it('null and undefined become nil; nil comes back as undefined', () => {
    expect(roundTrip(null, 'return v == nil')).toBe(true);
    expect(roundTrip(undefined, 'return v == nil')).toBe(true);
    expect(roundTrip({ a: null, b: 1 }, 'return v.a == nil and v.b == 1')).toBe(true);
    expect(roundTrip(1, 'return nil')).toBeUndefined();
  });

  it('arrays are 1-based sequences in Lua', () => {
    expect(roundTrip(['a', 'b', 'c'], 'return { #v, v[1], v[3] }')).toEqual([3, 'a', 'c']);
  });

  it('tables with keys other than 1..n become objects', () => {
    expect(roundTrip(0, 'return { [1] = "a", [3] = "c" }')).toEqual({ 1: 'a', 3: 'c' });
    expect(roundTrip(0, 'return { 1, 2, x = 3 }')).toEqual({ 1: 1, 2: 2, x: 3 });
    expect(roundTrip(0, 'return { [2.5] = "f", [true] = "t" }')).toEqual({ '2.5': 'f', true: 't' });
  });

  it('bytes become Lua strings and binary Lua strings become Uint8Array', () => {
    const bytes = new Uint8Array([0, 255, 104, 105]);
    expect(roundTrip(bytes, 'return #v')).toBe(4);
    expect(roundTrip(bytes, 'return string.byte(v, 2)')).toBe(255);
    expect(roundTrip(bytes)).toEqual(bytes);
    expect(roundTrip(Buffer.from('text'), 'return v .. "!"')).toBe('text!');
  });

  it('Dates become ISO text, Maps tables, Sets sequences', () => {
    expect(roundTrip(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(roundTrip(new Map([['k', 1]]), 'return v.k')).toBe(1);
    expect(roundTrip(new Set(['x', 'y']), 'return #v')).toBe(2);
  });

  it('JS functions are callable from Lua, and Lua functions from JS', () => {
    const double = roundTrip((n: number) => n * 2, 'return v(21)');
    expect(double).toBe(42);
    const fn = roundTrip(0, 'return function(a, b) return a .. b end') as (a: string, b: string) => string;
    expect(() => fn('x', 'y')).toThrow(/runtime is closed/); // roundTrip closed the VM
    const runtime = new LuaRuntime(new Network());
    const concat = runtime.runString('return function(a, b) return a .. b end') as (a: string, b: string) => string;
    expect(concat('x', 'y')).toBe('xy');
    const failing = runtime.runString('return function(t)\n  return t.missing.field\nend', 'f.lua') as (t: object) => unknown;
    expect(() => failing({})).toThrow("f.lua:2: attempt to index a nil value (field 'missing')");
    runtime.close();
  });

  it('cyclic values are refused in both directions', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => roundTrip(cyclic)).toThrow(
      /convert\.lua:1: value returned a value Lua cannot hold: cannot convert a cyclic value \(or one nested over 100 levels\) to Lua/,
    );
    expect(() => roundTrip(0, 'local t = {}\nt.self = t\nreturn t')).toThrow(
      /cannot convert a cyclic Lua table \(or one nested over 100 levels\) to JS/,
    );
  });

  it('shared (non-cyclic) references are fine', () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: shared }, 'return v.a.x + v.b.x')).toBe(2);
  });
});
