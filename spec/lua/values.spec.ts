import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { luaScenario } from 'tributary/testing';

const TB = "local tb = require('tributary')\n";

/** Runs `create_<kind>("bad", fn)` between a ticker and a sink over one payload; returns the sink's first frame value and the run. */
function runNode(kind: string, fn: string, payload: unknown = 1) {
  const s = luaScenario({
    name: 'bad.lua',
    source:
      TB +
      `tb.create_ticker("in", "1s")
       tb.create_${kind}("bad", ${fn})
       tb.create_sink("out", function() end)
       tb.link("in", "bad") tb.link("bad", "out")`,
    inputs: { in: { marbles: 'a|', values: { a: payload } } },
    logger: { warn: () => undefined, error: () => undefined },
  });
  const report = s.run('5ms');
  return { s, report, value: s.sinks.out.frames[0]?.value as unknown };
}

describe('values a Lua node function returns', () => {
  it.each([
    ['a function', 'function(p) return print end', 'a function'],
    ['a coroutine', 'function(p) return coroutine.create(function() end) end', 'a coroutine'],
    ['NaN', 'function(p) return 0/0 end', 'NaN'],
    ['inf', 'function(p) return 1/0 end', 'math.huge (inf)'],
    ['-inf', 'function(p) return -math.huge end', '-math.huge (-inf)'],
  ])('create_map returning %s gives an error event naming the node and the function’s line', (_, fn, what) => {
    const { s, report, value } = runNode('map', fn);
    expect(value).toEqual({ error: `bad.lua:3: node 'bad': the Lua function returned ${what}, which is not a payload` });
    expect(s.sinks.out.events[0].error?.node).toBe('bad');
    expect(report.stats.bad).toMatchObject({ in: 1, errors: 1 });
  });

  it('finds a bad value nested in a returned table and says where it sits', () => {
    expect(runNode('map', 'function(p) return { a = { 1, 2, { score = 0/0 } } } end').value).toEqual({
      error: "bad.lua:3: node 'bad': the Lua function returned NaN at .a[3].score, which is not a payload",
    });
    expect(runNode('map', 'function(p) return { ["odd key"] = function() end } end').value).toEqual({
      error: `bad.lua:3: node 'bad': the Lua function returned a function at ["odd key"], which is not a payload`,
    });
  });

  it('checks create_flatmap and create_where results too', () => {
    expect(runNode('flatmap', 'function(p) return { 1, 1/0 } end').value).toEqual({
      error: "bad.lua:3: node 'bad': the Lua function returned math.huge (inf) at [2], which is not a payload",
    });
    expect(runNode('where', 'function(p) return 0/0 end').value).toEqual({
      error: "bad.lua:3: node 'bad': the Lua function returned NaN, which is not a payload",
    });
  });

  it('a function given in an options table is checked and named the same way', () => {
    expect(runNode('map', '{ fn = function(p) return print end }').value).toEqual({
      error: "bad.lua:3: node 'bad': the Lua function returned a function, which is not a payload",
    });
  });

  it('finite floats, integers, nested data and nil still pass', () => {
    expect(runNode('map', 'function(p) return { x = 2.5, n = 3, list = { true, "s" } } end').value).toEqual({
      x: 2.5,
      n: 3,
      list: [true, 's'],
    });
    const { report } = runNode('map', 'function(p) return nil end');
    expect(report.stats.bad.errors).toBe(0);
  });

  it('outside node functions NaN, inf and functions still convert as before (script results, plain calls)', () => {
    const runtime = new LuaRuntime(new Network());
    try {
      expect(runtime.runString('return { 0/0, 1/0, -math.huge }', 'plain.lua')).toEqual([NaN, Infinity, -Infinity]);
      expect(typeof runtime.runString('return function() return 0/0 end', 'plain.lua')).toBe('function');
    } finally {
      runtime.close();
    }
  });
});
