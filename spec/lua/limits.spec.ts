import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { VirtualTime } from 'tributary/testing';

const TB = "local tb = require('tributary')\n";
const STOPPED = 'function still running after 50 ms \\(an endless loop\\?\\); stopped \\(callTimeout\\)';

/** Runs `in` (marbles a-b-c| carrying 1, 2, 3) → the script's node `m` → a recording sink. */
function runMap(source: string, name: string, options: ConstructorParameters<typeof LuaRuntime>[1] = {}) {
  const time = new VirtualTime();
  const net = new Network({ scheduler: time.scheduler, logger: { warn: () => undefined, error: () => undefined } });
  net.add('in', time.source('a-b-c|', { a: 1, b: 2, c: 3 }));
  const out = time.sink();
  net.add('out', out.node);
  const runtime = new LuaRuntime(net, { callTimeout: 50, ...options });
  try {
    runtime.runString(TB + source + '\ntb.link("in", "m") tb.link("m", "out")', name);
    const report = time.run(net, '10ms');
    return { out, report };
  } finally {
    runtime.close();
  }
}

describe('the time budget of a Lua function called from JS (callTimeout)', () => {
  it('stops an endless loop in a map: that event becomes an error event naming the node, file and line; later events flow', () => {
    const { out, report } = runMap(
      `tb.create_map("m", function(n)
         if n == 2 then
           while true do end
         end
         return n * 10
       end)`,
      'spin.lua',
    );
    expect(out.frames[0]).toEqual({ frame: 0, value: 10 });
    expect(out.frames[1].frame).toBe(2);
    expect((out.frames[1].value as { error: string }).error).toMatch(new RegExp(`^spin\\.lua:4: ${STOPPED}$`));
    expect(out.events[1].error?.node).toBe('m');
    expect(out.frames[2]).toEqual({ frame: 4, value: 30 });
    expect(report.stats.m).toMatchObject({ in: 3, out: 3, errors: 1 });
  });

  it('stops where and sink functions too', () => {
    const where = runMap('tb.create_where("m", function(n)\n  while n == 3 do end\n  return true\nend)', 'where.lua');
    expect(where.out.frames.map((f) => f.value)).toEqual([
      1,
      2,
      { error: expect.stringMatching(new RegExp(`^where\\.lua:3: ${STOPPED}$`)) },
    ]);

    const time = new VirtualTime();
    const logged: string[] = [];
    const net = new Network({ scheduler: time.scheduler, logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
    net.add('in', time.source('ab|', { a: 1, b: 2 }));
    const runtime = new LuaRuntime(net, { callTimeout: 50 });
    runtime.runString(
      TB + 'seen = 0\ntb.create_sink("s", function(n)\n  while n == 1 do end\n  seen = seen + 1\nend)\ntb.link("in", "s")',
      'sink.lua',
    );
    const report = time.run(net, '5ms');
    expect(report.stats.s).toMatchObject({ in: 2, errors: 1 });
    expect(runtime.runString('return seen')).toBe(1);
    expect(logged.join('\n')).toMatch(new RegExp(`sink\\.lua:4: ${STOPPED}`));
    runtime.close();
  });

  it('a pcall in the function cannot keep the call running', () => {
    const { out } = runMap(
      'tb.create_map("m", function(n)\n  while true do\n    pcall(function() while true do end end)\n  end\nend)',
      'pcall.lua',
    );
    expect(out.frames.map((f) => f.value)).toEqual(
      [1, 2, 3].map(() => ({ error: expect.stringMatching(new RegExp(`^pcall\\.lua:\\d: ${STOPPED}$`)) })),
    );
  });

  it('applies to Lua functions passed to exports and called later', () => {
    const runtime = new LuaRuntime(new Network(), { callTimeout: 50 });
    let saved: (() => unknown) | undefined;
    runtime.export('keep', (fn: () => unknown) => void (saved = fn));
    runtime.runString(TB + 'tb.keep(function()\n  local i = 0\n  while true do i = i + 1 end\nend)', 'kept.lua');
    expect(() => saved!()).toThrow(new RegExp(`^kept\\.lua:4: ${STOPPED}$`));
    runtime.close();
  });

  it('nested calls (Lua → JS export → Lua) each get a budget and give the outer hook back', () => {
    const runtime = new LuaRuntime(new Network(), { callTimeout: 50 });
    runtime.export('call_back', (fn: () => unknown) => fn());
    const fns = runtime.runString(
      TB +
        `return {
  function()                              -- line 3
    tb.call_back(function() return 1 end)
    while true do end                     -- line 5: stopped by the outer call's restored hook
  end,
  function()
    local ok, err = pcall(tb.call_back, function()
      while true do end                   -- line 9: stopped by the inner call's budget
    end)
    return err
  end,
}`,
      'nested.lua',
    ) as [() => unknown, () => unknown];
    expect(() => fns[0]()).toThrow(new RegExp(`^nested\\.lua:5: ${STOPPED}$`));
    expect(fns[1]()).toMatch(new RegExp(`^nested\\.lua:9: ${STOPPED}$`));
    runtime.close();
  });

  it('gives the script timeout its hook back after a call made while the script runs', () => {
    const runtime = new LuaRuntime(new Network(), { callTimeout: 50, scriptTimeout: 50 });
    runtime.export('call_back', (fn: () => unknown) => fn());
    expect(() => runtime.runString(TB + 'tb.call_back(function() return 1 end)\nwhile true do end', 'script.lua')).toThrow(
      /^script\.lua:3: script still running after 50 ms \(an endless loop\?\); stopped$/,
    );
    runtime.close();
  });

  it('the script timeout cannot be caught by a pcall in a loop either', () => {
    const runtime = new LuaRuntime(new Network(), { scriptTimeout: 50 });
    expect(() => runtime.runString('while true do\n  pcall(function() while true do end end)\nend', 'escape.lua')).toThrow(
      /^escape\.lua:\d: script still running after 50 ms/,
    );
    expect(runtime.runString('return 1 + 1')).toBe(2);
    runtime.close();
  });

  it('is on by default (1 s) and can be turned off', () => {
    expect(new LuaRuntime(new Network()).runString('return 1')).toBe(1);
    const runtime = new LuaRuntime(new Network(), { callTimeout: 0 });
    const fn = runtime.runString('return function(n) local s = 0 for i = 1, n do s = s + i end return s end') as (n: number) => number;
    expect(fn(1000)).toBe(500500);
    runtime.close();
  });
});

describe('the string size limit (maxStringBytes)', () => {
  function run(source: string, options: ConstructorParameters<typeof LuaRuntime>[1] = {}): unknown {
    const runtime = new LuaRuntime(new Network(), options);
    try {
      return runtime.runString(source, 'big.lua');
    } finally {
      runtime.close();
    }
  }
  const OVER = (fn: string, bytes: number, limit = 64 * 1024 * 1024) =>
    `${fn}: the result would be ${bytes} bytes, over the limit of ${limit} (maxStringBytes)`;

  it('string.rep refuses a result over the limit before allocating it, naming the line and the limit', () => {
    expect(() => run('local s = "x"\nreturn #string.rep(s, 2^30)')).toThrow(`big.lua:2: ${OVER('string.rep', 2 ** 30)}`);
    expect(() => run('return #("ab"):rep(3, "--")', { maxStringBytes: 7 })).toThrow(`big.lua:1: ${OVER('string.rep', 10, 7)}`);
    expect(run('return ("ab"):rep(3, "-")', { maxStringBytes: 8 })).toBe('ab-ab-ab');
    expect(run('return string.rep("x", 0) .. string.rep("x", -1)')).toBe('');
  });

  it('doubling a string in a loop (string.rep, table.concat, string.format) fails at the limit', () => {
    const limit = 1024 * 1024;
    for (const double of ['string.rep(s, 2)', 'table.concat({ s, s })', 'string.format("%s%s", s, s)']) {
      const source = `local s = "x"\nfor i = 1, 40 do\n  s = ${double}\nend\nreturn #s`;
      const fn = double.slice(0, double.indexOf('('));
      expect(() => run(source, { maxStringBytes: limit })).toThrow(`big.lua:3: ${OVER(fn, 2 * limit, limit)}`);
    }
  });

  it('table.concat counts separators and ranges; its own errors are unchanged', () => {
    expect(run('return table.concat({ "a", "b", 3 }, ", ")', { maxStringBytes: 7 })).toBe('a, b, 3');
    expect(() => run('return table.concat({ "a", "b", 3 }, ", ")', { maxStringBytes: 6 })).toThrow(
      `big.lua:1: ${OVER('table.concat', 7, 6)}`,
    );
    expect(run('return table.concat({ "aaaa", "b", "c" }, "", 2, 3)', { maxStringBytes: 2 })).toBe('bc');
    expect(() => run('return table.concat({ "a", {} })')).toThrow(/big\.lua:1: invalid value \(table\) at index 2 in table for 'concat'/);
  });

  it('string.gsub results are bounded too', () => {
    expect(() => run('return string.gsub(string.rep("x", 1000), "x", "yy")', { maxStringBytes: 1500 })).toThrow(
      `big.lua:1: ${OVER('string.gsub', 2000, 1500)}`,
    );
    expect(run('return (string.gsub("hello", "l", "L"))')).toBe('heLLo');
  });

  it('applies inside functions given to nodes, and can be turned off', () => {
    const runtime = new LuaRuntime(new Network(), { maxStringBytes: 10 });
    const fn = runtime.runString('return function(n) return string.rep("ab", n) end', 'fn.lua') as (n: number) => string;
    expect(fn(5)).toBe('ababababab');
    expect(() => fn(6)).toThrow(`fn.lua:1: ${OVER('string.rep', 12, 10)}`);
    runtime.close();
    expect(run('return #string.rep("x", 100)', { maxStringBytes: Infinity })).toBe(100);
  });
});

describe('the message of a failed call says what failed', () => {
  function failure(body: string, options: ConstructorParameters<typeof LuaRuntime>[1] = {}): string {
    const runtime = new LuaRuntime(new Network(), options);
    const fn = runtime.runString(`return function(n)\n  ${body}\nend`, 'fail.lua') as (n: unknown) => unknown;
    try {
      fn(1);
    } catch (e) {
      return (e as Error).message;
    } finally {
      runtime.close();
    }
    throw new Error('the call did not fail');
  }

  it('error(nil) and error() say so, with the file and the line of the error call', () => {
    expect(failure('error(nil)')).toBe('fail.lua:2: error called with nil');
    expect(failure('error()')).toBe('fail.lua:2: error called with nil');
  });

  it('a table is shown by its __tostring, or as short JSON-like text', () => {
    expect(failure('error(setmetatable({ code = 7 }, { __tostring = function(e) return "E" .. e.code end }))')).toBe('fail.lua:2: E7');
    expect(failure('error({ reason = "too big", value = n, tags = { "a", "b" }, f = print })')).toBe(
      'fail.lua:2: {"reason":"too big","value":1,"tags":["a","b"],"f":"<function>"}',
    );
    expect(failure('error({})')).toBe('fail.lua:2: {}');
    expect(failure('error({ [true] = 1, [2.5] = 2 })')).toBe('fail.lua:2: {"true":1,"2.5":2}');
  });

  it('cycles, depth and size are cut short', () => {
    expect(failure('local t = { name = "loop" } t.self = t error(t)')).toBe(
      'fail.lua:2: {"name":"loop","self":{"name":"loop","self":{"name":"loop","self":{…}}}}',
    );
    const long = failure('local t = {} for i = 1, 100 do t["k" .. i] = string.rep("x", 20) end error(t)');
    expect(long.length).toBeLessThanOrEqual('fail.lua:2: '.length + 300);
    expect(long.endsWith('…')).toBe(true);
  });

  it('a failing or endless __tostring falls back to the JSON-like text', () => {
    expect(failure('error(setmetatable({ a = 1 }, { __tostring = function() error("bad") end }))')).toBe('fail.lua:2: {"a":1}');
    expect(failure('error(setmetatable({ a = 2 }, { __tostring = function() while true do end end }))', { callTimeout: 50 })).toBe(
      'fail.lua:2: {"a":2}',
    );
  });

  it('other values name their type', () => {
    expect(failure('error(true)')).toBe('fail.lua:2: error called with true');
    expect(failure('error(print)')).toBe('fail.lua:2: error called with a function');
    expect(failure('error(coroutine.create(print))')).toBe('fail.lua:2: error called with a thread');
  });

  it('strings and runtime errors are unchanged', () => {
    expect(failure('error("plain")')).toBe('fail.lua:2: plain');
    expect(failure('error("no position", 0)')).toBe('fail.lua:1: no position');
    expect(failure('return n.x')).toMatch(/^fail\.lua:2: attempt to index a number value/);
  });
});

describe('the time budget and coroutines', () => {
  it('a coroutine created before the call is stopped too, by resume and by wrap', () => {
    const runtime = new LuaRuntime(new Network(), { callTimeout: 50 });
    const fns = runtime.runString(
      `local co = coroutine.create(function()
  while true do end
end)
local w = coroutine.wrap(function()
  while true do end
end)
return {
  function() local ok, err = coroutine.resume(co) error(err, 0) end,
  function() w() end,
  function() local c = coroutine.wrap(function(a, b) coroutine.yield(a + b) return "done" end) return { c(1, 2), c() } end,
}`,
      'co.lua',
    ) as (() => unknown)[];
    expect(() => fns[0]()).toThrow(new RegExp(`^co\\.lua:2: ${STOPPED}$`));
    expect(() => fns[1]()).toThrow(new RegExp(`co\\.lua:5: ${STOPPED}$`));
    expect(fns[2]()).toEqual([3, 'done']);
    runtime.close();
  });
});
