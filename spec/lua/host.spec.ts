import { map } from 'rxjs';
import { Network, createRegistry, defineNode, nodes, opt } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { VirtualTime, textRecorder } from 'tributary/testing';

const TB = "local tb = require('tributary')\n";

/** A host-defined kind: multiplies numeric payloads. */
const scale = defineNode({
  name: 'scale',
  role: 'pipeline',
  summary: 'Multiplies numbers by a factor.',
  options: { factor: opt.number('the factor').require() },
  positional: ['factor'],
  example: "net.add('triple', scale({ factor: 3 }));",
  luaExample: 'tb.create_scale("triple", 3)',
  build: ({ factor }) => ({ ...nodes.operator(map((n: number) => n * factor)), kind: 'scale' }),
});

describe('embedding the runtime in a host program', () => {
  it('host exports receive converted arguments and return values to Lua (m.Export)', () => {
    const runtime = new LuaRuntime(new Network());
    const calls: unknown[][] = [];
    runtime.export('my_custom_fn', (first: string, second: number, third: unknown) => {
      calls.push([first, second, third]);
      return { ok: true, echo: [first, second] };
    });
    const result = runtime.runString(TB + 'local r = tb.my_custom_fn("arg1", 2, { k = "v" })\nreturn { r.ok, r.echo[1], r.echo[2] }');
    expect(calls).toEqual([['arg1', 2, { k: 'v' }]]);
    expect(result).toEqual([true, 'arg1', 2]);
    runtime.close();
  });

  it('an export that throws raises a Lua error at the calling line', () => {
    const runtime = new LuaRuntime(new Network());
    runtime.export('strict', (n: unknown) => {
      if (!Number.isInteger(n)) throw new Error('strict: an integer is required');
      return n;
    });
    expect(() => runtime.runString(TB + 'tb.strict(1)\ntb.strict(1.5)', 'host.lua')).toThrow('host.lua:3: strict: an integer is required');
    runtime.close();
  });

  it('an export may call Lua functions it was given; their errors keep the inner line', () => {
    const runtime = new LuaRuntime(new Network());
    runtime.export('each', (list: unknown[], fn: (x: unknown) => unknown) => list.map((x) => fn(x)));
    expect(runtime.runString(TB + 'return tb.each({1, 2, 3}, function(x) return x * 10 end)')).toEqual([10, 20, 30]);
    expect(() => runtime.runString(TB + 'tb.each({1}, function(x)\n  error("inner boom")\nend)', 'n.lua')).toThrow(
      /^n\.lua:3: inner boom$/,
    );
    runtime.close();
  });

  it('an export that returns a Promise is refused: scripts are synchronous', () => {
    const runtime = new LuaRuntime(new Network());
    runtime.export('later', async () => 1);
    expect(() => runtime.runString(TB + 'tb.later()', 'host.lua')).toThrow(/^host\.lua:2: later returned a Promise/);
    runtime.close();
  });

  it('exports added after require appear on the module table at once', () => {
    const runtime = new LuaRuntime(new Network());
    runtime.runString(TB + 'assert(tb.late == nil)');
    runtime.export('late', () => 'here');
    expect(runtime.runString(TB + 'return tb.late()')).toBe('here');
    runtime.close();
  });

  it('exports can create nodes the way create_* does, so onCreate substitutions apply to them', () => {
    const network = new Network();
    const recorded: string[] = [];
    const runtime = new LuaRuntime(network, { onCreate: ({ name }) => void recorded.push(name) });
    runtime.export('create_pair', (name: string) => {
      runtime.create('forwarder', `${name}_in`);
      runtime.create('discarder', `${name}_out`);
      network.link(`${name}_in`, `${name}_out`);
      return true;
    });
    runtime.runString(TB + 'tb.create_pair("p")');
    expect(recorded).toEqual(['p_in', 'p_out']);
    expect(network.edges()).toEqual({ p_in: ['p_out'], p_out: [] });
    expect(() => runtime.runString(TB + 'tb.create_pair("p")', 'again.lua')).toThrow("again.lua:2: node 'p_in' already exists");
    runtime.close();
  });

  it('export names must be Lua identifiers', () => {
    const runtime = new LuaRuntime(new Network());
    expect(() => runtime.export('not valid', () => 1)).toThrow(/must be a Lua identifier/);
    runtime.close();
  });

  it('host-defined node kinds appear as create_* functions, however they were registered', () => {
    const registry = createRegistry().register(scale);
    const network = new Network({ registry });
    const runtime = new LuaRuntime(network);
    const listed = runtime.runString(TB + 'return tb.create_scale ~= nil');
    expect(listed).toBe(true);
    runtime.close();

    // Registered on the registry after the runtime exists and after require:
    const network2 = new Network();
    const runtime2 = new LuaRuntime(network2);
    runtime2.runString(TB + 'assert(rawget(tb, "create_scale") == nil)');
    network2.registry.register(scale);
    runtime2.runString(TB + 'tb.create_scale("triple", 3)');
    expect(network2.get('triple')?.kind).toBe('scale');
    runtime2.close();

    // Through runtime.registerKind, listed by pairs() at once:
    const runtime3 = new LuaRuntime(new Network());
    runtime3.runString(TB);
    runtime3.registerKind(scale);
    expect(runtime3.runString(TB + 'return rawget(tb, "create_scale") ~= nil')).toBe(true);
    runtime3.close();
  });

  it('a host kind runs in the network built by the script', () => {
    const t = new VirtualTime();
    const network = new Network({ scheduler: t.scheduler, registry: createRegistry().register(scale) });
    const out = textRecorder(t.scheduler);
    const runtime = new LuaRuntime(network, { stdout: out });
    runtime.runString(
      TB +
        'tb.create_from("n", {1, 2, 3}) tb.create_scale("x10", { factor = 10 }) tb.create_tester("p", "")\ntb.link("n", "x10") tb.link("x10", "p")',
    );
    t.run(network, '1s');
    expect(out.text).toBe('10\n20\n30\n');
    runtime.close();
  });

  it('a second script on the same VM and network refers to the first script’s nodes (network2.lua)', () => {
    const t = new VirtualTime();
    const network = new Network({ scheduler: t.scheduler });
    const out = textRecorder(t.scheduler);
    const runtime = new LuaRuntime(network, { stdout: out });
    runtime.runString(
      TB + 'tb.create_ticker("ticker", "1s")\ntb.create_forwarder("fwd")\ntb.link("ticker", "fwd")\nshared_counter = 41',
      'network.lua',
    );
    runtime.runString(
      TB +
        'assert(tb.node_exists("fwd"))\nshared_counter = shared_counter + 1\ntb.create_tester("printer", "+")\ntb.link("fwd", "printer")',
      'network2.lua',
    );
    expect(runtime.runString('return shared_counter')).toBe(42);
    t.run(network, '2s');
    expect(out.text).toBe('++');
    runtime.close();
  });

  it('closing frees the VM: running and calling Lua functions afterwards fail clearly', () => {
    const network = new Network();
    const runtime = new LuaRuntime(network);
    const fn = runtime.runString('return function(x) return x + 1 end') as (x: number) => number;
    expect(fn(1)).toBe(2);
    runtime.close();
    runtime.close(); // twice is fine
    expect(runtime.closed).toBe(true);
    expect(() => runtime.runString('return 1')).toThrow('the Lua runtime is closed');
    expect(() => fn(1)).toThrow(/the Lua runtime is closed; cannot call the function defined at script:1/);
  });
});

describe('script time limit', () => {
  it('stops an endless script with an error at the line it was running', () => {
    const runtime = new LuaRuntime(new Network(), { scriptTimeout: 50 });
    expect(() => runtime.runString('local n = 0\nwhile true do\n  n = n + 1\nend', 'loop.lua')).toThrow(
      /^loop\.lua:[234]: script still running after 50 ms \(an endless loop\?\); stopped$/,
    );
    // The VM stays usable, and the limit applies to each run afresh.
    expect(runtime.runString('return 1 + 1')).toBe(2);
    runtime.close();
  });

  it('does not limit functions given to nodes', () => {
    const runtime = new LuaRuntime(new Network(), { scriptTimeout: 1 });
    const fn = runtime.runString('return function(n) local s = 0.0 for i = 1, n do s = s + i end return s end') as (n: number) => number;
    expect(fn(200_000)).toBe(20_000_100_000); // far longer than 1 ms
    runtime.close();
  });
});
