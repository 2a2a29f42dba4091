import fc from 'fast-check';
import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

const quiet = { warn: () => undefined, error: () => undefined };

/** What a Lua map node made of each payload: its output, or its error message. */
async function outputs(fnSource: string, payloads: unknown[], compile: boolean, prelude = '') {
  const net = new Network({ logger: quiet });
  const runtime = new LuaRuntime(net, { compile });
  const seen: unknown[] = [];
  net.add('in', net.registry.create('from', { items: payloads }));
  net.add('out', net.registry.create('sink', { fn: (p: unknown) => void seen.push({ ok: p }) }));
  net.add('dead', net.registry.create('sink', { fn: (l: { error: string }) => void seen.push({ error: l.error }) }));
  runtime.runString(
    `local tb = require('tributary')\nlocal limit = 7\nlocal label = "L"\n${prelude}tb.create_map("m", ${fnSource})\ntb.link("in", "m") tb.link("m", "out") tb.route_errors("m", "dead")`,
    'gen.lua',
  );
  await net.start();
  await net.done();
  const stats = runtime.compiledFunctions();
  runtime.close();
  return { seen, stats };
}

/** Same outputs compiled and on the VM; returns the compiled run's statistics. */
async function same(fnSource: string, payloads: unknown[], prelude = '') {
  const vm = await outputs(fnSource, payloads, false, prelude);
  const fast = await outputs(fnSource, payloads, true, prelude);
  expect(fast.seen).toEqual(vm.seen);
  // -0 and 0 are different payloads for a consumer that divides: compare them exactly too.
  expect(fast.seen.map((s) => JSON.stringify(s, (_k, v: unknown) => (Object.is(v, -0) ? '-0' : v)))).toEqual(
    vm.seen.map((s) => JSON.stringify(s, (_k, v: unknown) => (Object.is(v, -0) ? '-0' : v))),
  );
  return fast.stats;
}

describe('node functions compiled into JS give exactly what the Lua VM gives', () => {
  it('compiles the common shapes and runs them without the VM', async () => {
    const bets = Array.from({ length: 20 }, (_, i) => ({ customer: `c${i % 3}`, stake: i * 5, odds: 1.5 + i / 10 }));
    for (const fn of [
      'function(b) return { customer = b.customer, liability = b.stake * (b.odds - 1) } end',
      'function(b) return b.stake > 40 end',
      'function(b) if b.stake > 50 then return "big" elseif b.stake > 20 then return "mid" else return "small" end end',
      'function(b) local x = b.stake // 3 local y = b.stake % 7 return { x, y, math.floor(b.odds), math.max(b.stake, limit) } end',
      'function(b) return label .. ":" .. b.customer .. "/" .. tostring(b.odds) end',
      // Tables of names only, read back: a name, a missing name, a number key, the length, the type.
      'function(b) local t = { k = b.stake, m = b.customer } return t.m end',
      'function(b) local t = { a = b.stake, c = b.customer, o = b.odds } return { t.c, t.a, t.z == nil, t[1] == nil, #t, type(t), t.o } end',
      'function(b) return { gone = nil, customer = b.customer } end',
      'function(b) return { gone = nil } end',
    ]) {
      const stats = await same(fn, bets);
      expect(stats.functions).toBe(1);
      expect(stats.calls).toBe(bets.length);
      expect(stats.bails).toBe(0);
    }
  });

  it('leaves functions outside the subset on the VM', async () => {
    for (const fn of [
      'function(b) local s = 0 for i = 1, 3 do s = s + i end return s end', // a loop
      'function(b) b.seen = true return b end', // mutates its argument
      'function(b) return string.rep("x", b) end', // calls a function the compiler does not know
      'function(b) limit = limit + 1 return limit end', // writes an upvalue
    ]) {
      const stats = await same(fn, [1, 2]);
      expect(stats.functions).toBe(0);
    }
  });

  it('finds the function by its lines through long strings, comments and other functions', async () => {
    const prelude = 'local doc = [[\nmulti\nline]] --[[ a\ncomment ]] local f = function(n) return n + 100 end\nlocal g = "a\\\nb"\n';
    expect((await same('function(n) return n * 2 end', [1, 2], prelude)).functions).toBe(1);
    // Two functions on one line: either could be the one; neither is compiled.
    const stats = await same('(function(n) return n - 1 end) and function(n) return n * 3 end', [1, 2]);
    expect(stats.functions).toBe(0);
  });

  it('runs a call on the VM when only the VM can give its exact result or error', async () => {
    const cases: [string, unknown[]][] = [
      ['function(n) return n + 1 end', ['10', 'x', null, 2147483647]], // coercion, error, nil, wrap
      ['function(n) return n // 0 end', [5, 5.5]], // integer division by zero is an error
      ['function(s) return #s end', ['héllo', 'hello']], // bytes, not characters
      ['function(n) return n / 0 end', [1, 0]], // inf and NaN are not payloads
      ['function(t) return t end', [[1, null, 3], { a: null }, {}, [], new Date(0)]],
    ];
    for (const [fn, payloads] of cases) await same(fn, payloads);
  });

  it('agrees with the VM on random functions and payloads', async () => {
    const field = fc.constantFrom('b.i', 'b.f', 'b.s', 'b.t', 'b.o', 'b.o.x', 'b.z', 'b.t[1]', 'b.t[2]', '#b.t', 'limit', 'label');
    const literal = fc.constantFrom(
      '0',
      '1',
      '-3',
      '2147483647',
      '2.0',
      '0.5',
      '1e3',
      '"x"',
      '"10"',
      'true',
      'false',
      'nil',
      'math.huge',
      'math.pi',
    );
    const binary = fc.constantFrom('+', '-', '*', '/', '//', '%', '^', '..', '==', '~=', '<', '<=', '>', '>=', 'and', 'or');
    const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
      e: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        field,
        literal,
        fc.tuple(tie('e'), binary, tie('e')).map(([a, op, b]) => `(${a} ${op} ${b})`),
        fc.tuple(fc.constantFrom('-', 'not ', '#'), tie('e')).map(([op, a]) => `${op}(${a})`),
        fc
          .tuple(fc.constantFrom('math.floor', 'math.ceil', 'math.abs', 'tostring', 'type', 'string.upper', 'math.sqrt'), tie('e'))
          .map(([f, a]) => `${f}(${a})`),
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `math.max(${a}, ${b})`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `{ k = ${a}, ${b}, [${c}] = 1 }`),
        // Tables with names only (the compiler's records), of 2 and 3 names.
        fc.tuple(tie('e'), tie('e')).map(([a, b]) => `{ k = ${a}, m = ${b} }`),
        fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `{ k = ${a}, m = ${b}, ["n"] = ${c} }`),
      ),
    })).e;
    const body = fc.oneof(
      expr.map((e) => `return ${e}`),
      fc.tuple(expr, expr).map(([a, b]) => `local x = ${a} return { x, ${b} }`),
      fc.tuple(expr, expr, expr).map(([c, a, b]) => `if ${c} then return ${a} else return ${b} end`),
      // Reading back from a table of names: a name it has, one it lacks, a number, its length, its type.
      fc
        .tuple(expr, expr, fc.constantFrom('t.k', 't.m', 't.z', 't[1]', '#t', 'type(t)', 't', '{ t.k, t }'))
        .map(([a, b, read]) => `local t = { k = ${a}, m = ${b} } return ${read}`),
    );
    const payload = fc.record({
      i: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(2147483647, -2147483648, 3e9, 0)),
      f: fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0.5, 2.5, -0, 1e15)),
      s: fc.oneof(fc.constantFrom('a', '10', ' 7 ', 'é', ''), fc.string({ maxLength: 4 })),
      t: fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(null)), { maxLength: 3 }),
      o: fc.oneof(fc.record({ x: fc.integer({ min: 0, max: 3 }) }), fc.constant({})),
    });
    await fc.assert(
      fc.asyncProperty(body, fc.array(payload, { minLength: 1, maxLength: 4 }), async (src, payloads) => {
        await same(`function(b) ${src} end`, payloads);
      }),
      { numRuns: 300, seed: 20261128 },
    );
  });
});
