import { builtinPlugins } from '../../lib/plugins';
import { readFileSync } from 'node:fs';
import { Network, createRegistry, luaSignature } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { VirtualTime, textRecorder } from 'tributary/testing';

function setup(opts: { scheduler?: VirtualTime['scheduler'] } = {}) {
  const network = new Network({ scheduler: opts.scheduler, plugins: builtinPlugins() });
  const out = textRecorder();
  const runtime = new LuaRuntime(network, { stdout: out });
  return { network, runtime, out };
}

const TB = "local tb = require('tributary')\n";

describe("the 'tributary' Lua module", () => {
  it('has a create_<kind> function for every kind of the registry, plus the network functions', () => {
    const { runtime, out } = setup();
    runtime.runFile('examples/scripted/functions.lua');
    const printed = out.text.split('\n').filter(Boolean);
    expect(printed[0]).toBe('functions:');
    const names = new Set(printed.slice(1));
    for (const kind of createRegistry({ plugins: builtinPlugins() }).list()) expect(names).toContain(`create_${kind.name}`);
    for (const fn of ['link', 'fanout', 'fanin', 'node_exists', 'route_errors']) expect(names).toContain(fn);
    // The original's table (DESIGN §6) — minus the window functions, which come with the windows.
    for (const fn of ['create_ticker', 'create_forwarder', 'create_ratelimit', 'create_discarder', 'create_tester'])
      expect(names).toContain(fn);
    runtime.close();
  });

  it('require returns the same table every time', () => {
    const { runtime } = setup();
    expect(runtime.runString(TB + "return tb == require('tributary')")).toBe(true);
    runtime.close();
  });

  it.each([
    ['positional arguments', 'tb.create_ticker("t", "500ms")'],
    ['an options table', 'tb.create_ticker("t", { interval = "500ms" })'],
    ['milliseconds as a number', 'tb.create_ticker("t", 500)'],
  ])('create_ticker accepts %s', (_, call) => {
    const t = new VirtualTime();
    const { network, runtime } = setup({ scheduler: t.scheduler });
    const seen: unknown[] = [];
    runtime.export('collect', (p: unknown) => seen.push(p));
    runtime.runString(TB + call + '\ntb.create_sink("s", function(p) tb.collect(p) end)\ntb.link("t", "s")');
    t.run(network, '1600ms');
    expect(seen).toEqual([500, 1000, 1500]);
    runtime.close();
  });

  it('takes positional arguments followed by a table of the remaining options', () => {
    const { network, runtime } = setup();
    runtime.runString(TB + 'tb.create_map("m", function(p) return p end, { concurrency = 4 })');
    expect(network.get('m')?.kind).toBe('map');
    runtime.close();
  });

  it('create_* returns true (like the original) and node_exists reports nodes', () => {
    const { runtime } = setup();
    const result = runtime.runString(TB + 'local a = tb.create_forwarder("f")\nreturn { a, tb.node_exists("f"), tb.node_exists("nope") }');
    expect(result).toEqual([true, true, false]);
    runtime.close();
  });

  it('link, fanout and fanin wire the network (fanin takes the target first)', () => {
    const { network, runtime } = setup();
    runtime.runString(
      TB +
        `tb.create_ticker("src", "1s")
         tb.create_forwarder("a") tb.create_forwarder("b") tb.create_forwarder("c")
         tb.create_discarder("sink")
         assert(tb.link("src", "a") == true)
         assert(tb.fanout("a", "b", "c") == true)
         assert(tb.fanin("sink", "b", "c") == true)`,
    );
    expect(network.edges()).toEqual({ src: ['a'], a: ['b', 'c'], b: ['sink'], c: ['sink'], sink: [] });
    expect(network.isConnected()).toBe(true);
    runtime.close();
  });

  it('route_errors sends a node’s error events to another node', () => {
    const { network, runtime } = setup();
    runtime.runString(
      TB +
        `tb.create_ticker("src", "1s") tb.create_map("m", function(p) return p end)
         tb.create_discarder("ok") tb.create_discarder("dead")
         tb.link("src", "m") tb.link("m", "ok") tb.route_errors("m", "dead")`,
    );
    expect(network.toJSON().edges).toContainEqual({ from: 'm', to: 'dead', errors: true });
    runtime.close();
  });

  it('the tester writes its indicator to the runtime output', () => {
    const t = new VirtualTime();
    const out = textRecorder(t.scheduler);
    const network = new Network({ scheduler: t.scheduler });
    const runtime = new LuaRuntime(network, { stdout: out });
    runtime.runString(TB + 'tb.create_ticker("t", "1s") tb.create_tester("p", "!") tb.link("t", "p")');
    t.run(network, '3s');
    expect(out.writes).toEqual([
      { frame: 1000, value: '!' },
      { frame: 2000, value: '!' },
      { frame: 3000, value: '!' },
    ]);
    runtime.close();
  });

  it('the tester with an empty indicator prints payloads, and print writes to the same output', () => {
    const t = new VirtualTime();
    const out = textRecorder(t.scheduler);
    const network = new Network({ scheduler: t.scheduler });
    const runtime = new LuaRuntime(network, { stdout: out });
    runtime.runString(
      TB +
        `print("building", 1, true, nil)
         tb.create_from("src", { { a = 1 }, "two" })
         tb.create_tester("p", "")
         tb.link("src", "p")`,
    );
    t.run(network, '1s');
    expect(out.text).toBe('building\t1\ttrue\tnil\n{"a":1}\ntwo\n');
    runtime.close();
  });

  it('luaSignature lists the positional arguments', () => {
    const r = createRegistry({ plugins: builtinPlugins() });
    expect(luaSignature(r.get('ticker'))).toBe('create_ticker(name, interval)');
    expect(luaSignature(r.get('tester'))).toBe('create_tester(name, indicator)');
    expect(luaSignature(r.get('forwarder'))).toBe('create_forwarder(name)');
  });

  it('examples/scripted/network.lua is the README script, verbatim', () => {
    const readme = [
      "local tb = require('tributary')",
      '',
      'tb.create_tester("tick_printer", ".")',
      'tb.create_ticker("ticker_500ms", "500ms")',
      'tb.create_ratelimit("filter_2s", "2s")',
      'tb.create_forwarder("forwarder1")',
      'tb.create_forwarder("forwarder2")',
      '',
      'tb.link("ticker_500ms", "forwarder1")',
      'tb.fanout("forwarder1", "filter_2s", "forwarder2")',
      'tb.fanin("tick_printer", "filter_2s", "forwarder2")',
      '',
    ].join('\n');
    expect(readFileSync('examples/scripted/network.lua', 'utf8')).toBe(readme);
  });
});
