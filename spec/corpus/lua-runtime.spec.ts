import { Network, nodes } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { builtinPlugins } from 'tributary/plugins';
import { captureLogger } from '../connectors/helpers';
import { TB } from './lua-support';

// A Lua function given to a node fails for one event: that event becomes an error event naming
// the node, whose message starts with the script file and the line of the failure; the other
// events go through and the network runs to its end.

interface DeadLetter {
  error: string;
  node: string;
  payload: unknown;
}

/** Runs from {1, 2, 3} → `create` (a node named 'f' made by the script) → collect, errors routed apart. */
async function runNode(create: string) {
  const network = new Network({ plugins: builtinPlugins(), logger: captureLogger() });
  const runtime = new LuaRuntime(network, { callTimeout: 1000 });
  const good: unknown[] = [];
  const bad: DeadLetter[] = [];
  try {
    runtime.runString(`${TB}tb.create_from("src", {1, 2, 3})\n${create}\ntb.link("src", "f")\n`, 'net.lua');
    network.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
    network.add('bad', nodes.sink({ fn: (p) => void bad.push(p as DeadLetter) }));
    network.link('f', 'good');
    network.routeErrors('f', 'bad');
    await network.start();
    await network.done();
  } finally {
    runtime.close();
  }
  return { good, bad };
}

type RuntimeCase = [label: string, create: string, line: number, reason: string, good: unknown[]];

// The node is created on line 3 of net.lua; a function body on the same line fails at line 3.
const CASES: RuntimeCase[] = [
  [
    'map: arithmetic on a nil field',
    'tb.create_map("f", function(n) if n == 2 then local t = {} return t.x + 1 end return n end)',
    3,
    'attempt to perform arithmetic on a nil value',
    [1, 3],
  ],
  [
    'map: error with a string',
    'tb.create_map("f", function(n) if n == 2 then error("two is bad") end return n end)',
    3,
    'two is bad',
    [1, 3],
  ],
  [
    'map: error with a table',
    'tb.create_map("f", function(n) if n == 2 then error({reason = "too big"}) end return n end)',
    3,
    '{"reason":"too big"}',
    [1, 3],
  ],
  ['map: error(nil)', 'tb.create_map("f", function(n) if n == 2 then error(nil) end return n end)', 3, 'error called with nil', [1, 3]],
  [
    'map: calling a nil global',
    'tb.create_map("f", function(n) if n == 2 then missing_fn() end return n end)',
    3,
    "attempt to call a nil value (global 'missing_fn')",
    [1, 3],
  ],
  [
    'map: indexing a number',
    'tb.create_map("f", function(n) if n == 2 then return n.x end return n end)',
    3,
    'attempt to index a number value',
    [1, 3],
  ],
  [
    'where: comparing a number with nil',
    'tb.create_where("f", function(n) if n == 2 then return n < nil end return true end)',
    3,
    'attempt to compare',
    [1, 3],
  ],
  [
    'flatmap: concatenating a table',
    'tb.create_flatmap("f", function(n) if n == 2 then return "x" .. {} end return {n} end)',
    3,
    'attempt to concatenate a table value',
    [1, 3],
  ],
  ['tap: error in a side effect', 'tb.create_tap("f", function(n) if n == 2 then error("tap failed") end end)', 3, 'tap failed', [1, 3]],
  [
    'interceptor: error on an event',
    'tb.create_interceptor("f", function(e) if e.payload == 2 then error("bad event") end return e.payload end)',
    3,
    'bad event',
    [1, 3],
  ],
  [
    'map: string.rep past the limit',
    'tb.create_map("f", function(n) if n == 2 then return string.rep("x", 2^30) end return n end)',
    3,
    'over the limit of 67108864 (maxStringBytes)',
    [1, 3],
  ],
  [
    'map: sandboxed os.execute',
    'tb.create_map("f", function(n) if n == 2 then os.execute("ls") end return n end)',
    3,
    'os.execute is not available in the sandbox',
    [1, 3],
  ],
  [
    'map: error with a table on a later line',
    'tb.create_map("f", function(n)\n  if n == 2 then\n    error({reason = "later"})\n  end\n  return n\nend)',
    5,
    '{"reason":"later"}',
    [1, 3],
  ],
  [
    'map: error() with nil on a later line',
    'tb.create_map("f", function(n)\n  if n == 2 then\n    error()\n  end\n  return n\nend)',
    5,
    'error called with nil',
    [1, 3],
  ],
  [
    'map: failing on a later line',
    'tb.create_map("f", function(n)\n  if n == 2 then\n    error("line five")\n  end\n  return n\nend)',
    5,
    'line five',
    [1, 3],
  ],
];

describe('a Lua function that fails for one event names its node and line; the network keeps running', () => {
  it.each(CASES)('%s', async (_label, create, line, reason, good) => {
    const r = await runNode(create);
    expect(r.good).toEqual(good);
    expect(r.bad).toHaveLength(1);
    expect(r.bad[0].node).toBe('f');
    expect(r.bad[0].error).toContain(`net.lua:${line}:`);
    expect(r.bad[0].error).toContain(reason);
  });
});
