import { Network, TributaryError, createRegistry, defineNode, definePlugin, lazyPlugin, nodes, opt, type Plugin } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { VirtualTime, luaScenario } from 'tributary/testing';

const double = defineNode({
  name: 'double',
  role: 'pipeline',
  summary: 'Doubles numbers.',
  options: { by: opt.number('the factor').withDefault(2) },
  positional: ['by'],
  example: "net.add('d', double())",
  build: ({ by }) => ({ ...nodes.map({ fn: (n: number) => n * by }), kind: 'double' }),
});

function countingService() {
  const log: string[] = [];
  const plugin = definePlugin({
    name: 'counting',
    kinds: [
      defineNode({
        name: 'uses_counter',
        role: 'pipeline',
        summary: 'Counts events into the counter service.',
        options: {},
        positional: [],
        services: ['test.counter'],
        example: '',
        build: () => ({
          role: 'pipeline',
          kind: 'uses_counter',
          create: (ctx) => {
            const counter = ctx.service<{ n: number }>('test.counter');
            return nodes.tap({ fn: () => void counter.n++ }).create(ctx) as never;
          },
        }),
      }),
    ],
    services: {
      'test.counter': {
        open: async () => {
          log.push('open');
          return { n: 0 };
        },
        close: async (c: { n: number }) => {
          log.push(`close ${c.n}`);
        },
      },
    },
  });
  return { plugin, log };
}

describe('definePlugin', () => {
  it('returns the plugin and refuses malformed ones with a message naming the field', () => {
    const p = definePlugin({ name: 'ok', kinds: [double] });
    expect(p.name).toBe('ok');
    expect(() => definePlugin({ name: 'Bad Name' } as Plugin)).toThrow(/plugin 'Bad Name': name must be/);
    expect(() => definePlugin({ name: 'x', kinds: [], extra: 1 } as unknown as Plugin)).toThrow(/plugin 'x': unknown field 'extra'/);
    expect(() => definePlugin({ name: 'x', luaExports: { 'not-lua': () => () => 1 } })).toThrow(
      /Lua export 'not-lua' must be a Lua identifier/,
    );
    expect(() => definePlugin({ name: 'x', services: { s: {} as never } })).toThrow(/service 's' needs an open\(\) function/);
  });
});

describe('registries and plugins', () => {
  it('createRegistry() holds only the core kinds; plugins add theirs', () => {
    expect(createRegistry().has('window')).toBe(false);
    expect(createRegistry().has('webhook')).toBe(false);
    const r = createRegistry({ plugins: [definePlugin({ name: 'math', kinds: [double] })] });
    expect(r.get('double').summary).toBe('Doubles numbers.');
    expect(r.pluginNames()).toEqual(['math']);
  });

  it('refuses a plugin whose kind or Lua function another already offers, naming both', () => {
    const r = createRegistry({ plugins: [definePlugin({ name: 'a', kinds: [double], luaExports: { f: () => () => 1 } })] });
    expect(() => r.use(definePlugin({ name: 'b', kinds: [double] }))).toThrow(/plugin 'b': node kind 'double' is already registered/);
    expect(() => r.use(definePlugin({ name: 'c', luaExports: { f: () => () => 2 } }))).toThrow(
      /plugin 'c': Lua function 'f' is already registered/,
    );
    expect(() => r.use(definePlugin({ name: 'a' }))).toThrow(/plugin 'a' is already loaded/);
  });

  it('loads a lazy plugin only when one of its names is used, once', () => {
    let loads = 0;
    const r = createRegistry({
      plugins: [
        lazyPlugin({
          name: 'math',
          kinds: ['double'],
          load: () => {
            loads++;
            return definePlugin({ name: 'math', kinds: [double] });
          },
        }),
      ],
    });
    expect(r.has('double')).toBe(true);
    expect(r.names()).toContain('double');
    expect(loads).toBe(0);
    r.create('double', { by: 3 });
    r.get('double');
    expect(loads).toBe(1);
  });

  it('says so when a lazy plugin offers something else than it declared', () => {
    const r = createRegistry({
      plugins: [lazyPlugin({ name: 'liar', kinds: ['triple'], load: () => definePlugin({ name: 'liar', kinds: [double] }) })],
    });
    expect(() => r.get('triple')).toThrow(/plugin 'liar' offers \[double\] but was declared lazily with \[triple\]/);
  });

  it('a clone shares no later registrations with the original', () => {
    const a = createRegistry();
    const b = a.clone().use(definePlugin({ name: 'math', kinds: [double] }));
    expect(b.has('double')).toBe(true);
    expect(a.has('double')).toBe(false);
  });

  it('an unknown kind suggests the nearest one', () => {
    expect(() => createRegistry().get('tickr')).toThrow(/unknown node kind 'tickr' \(known: .*\) — did you mean 'ticker'\?/);
  });
});

describe('options declared once', () => {
  it('names a misspelt option and suggests the right one, also in camelCase for snake_case', () => {
    const net = new Network();
    expect(() => net.create('ticker', 't', { intervall: '1s' })).toThrow(/unknown option 'intervall' .*— did you mean 'interval'\?/);
    const r = createRegistry({ plugins: [definePlugin({ name: 'math', kinds: [double] })] });
    expect(() => r.create('double', { By: 2 })).toThrow(/did you mean 'by'\?/);
  });

  it('suggests across a swap of two letters, and names misspelt Network options', () => {
    expect(() => createRegistry().create('buffer', { szie: 3 })).toThrow(/unknown option 'szie' .*— did you mean 'size'\?/);
    expect(() => new Network({ stopTimeout: '1s' } as never)).toThrow(
      /^Network: unknown option 'stopTimeout' \(known: scheduler, registry, plugins, logger, drainTimeout, services, metrics, http, fusion, state, allowExec, partition\)$/,
    );
    expect(() => new Network({ drianTimeout: '1s' } as never)).toThrow(/— did you mean 'drainTimeout'\?/);
    expect(() => new Network({ plugins: 5 } as never)).toThrow(/Network: option 'plugins' must be a list of plugins/);
  });

  it('types options from the schema (a compile-time check: these lines type-check)', () => {
    const node = double({ by: 4 });
    expect(node.role).toBe('pipeline');
    // @ts-expect-error `by` is a number
    expect(() => double({ by: 'four' })).toThrow(/option 'by' must be a number, got string "four"/);
  });
});

describe('new Network({ plugins })', () => {
  it('opens a service only for a network with a node that needs it, and closes it after the drain', async () => {
    const { plugin, log } = countingService();
    const idle = new Network({ plugins: [plugin] });
    idle.add('src', nodes.from({ items: [1, 2, 3] }));
    idle.add('out', nodes.discarder());
    idle.link('src', 'out');
    await idle.start();
    await idle.done();
    expect(log).toEqual([]);

    const busy = new Network({ plugins: [plugin] });
    busy.add('src', nodes.from({ items: [1, 2, 3] }));
    busy.create('uses_counter', 'count');
    busy.add('out', nodes.discarder());
    busy.link('src', 'count');
    busy.link('count', 'out');
    await busy.start();
    await busy.done();
    await busy.stop();
    expect(log).toEqual(['open', 'close 3']);
  });

  it('a provided service wins over the plugin provider', async () => {
    const { plugin, log } = countingService();
    const counter = { n: 0 };
    const net = new Network({ plugins: [plugin], services: { 'test.counter': counter } });
    net.add('src', nodes.from({ items: [1, 2] }));
    net.create('uses_counter', 'count');
    net.add('out', nodes.discarder());
    net.link('src', 'count');
    net.link('count', 'out');
    await net.start();
    await net.stop();
    expect(counter.n).toBe(2);
    expect(log).toEqual([]);
  });

  it('a service that fails to open fails start() naming the service, and the network can be stopped', async () => {
    const broken = definePlugin({
      name: 'broken',
      kinds: [
        defineNode({
          name: 'needs_db',
          role: 'sink',
          summary: 's',
          options: {},
          positional: [],
          services: ['db'],
          example: '',
          build: () => ({ ...nodes.discarder(), kind: 'needs_db' }),
        }),
      ],
      services: { db: { open: () => Promise.reject(new Error('connection refused')) } },
    });
    const net = new Network({ plugins: [broken] });
    net.add('src', nodes.from({ items: [1] }));
    net.create('needs_db', 'out');
    net.link('src', 'out');
    await expect(net.start()).rejects.toThrow(/cannot open service 'db': connection refused/);
    await expect(net.stop()).resolves.toMatchObject({ timedOut: false });
  });

  it("gives Lua scripts the plugin's kinds and functions", () => {
    const plugin = definePlugin({
      name: 'math',
      kinds: [double],
      luaExports: {
        double_to: (host) => (name: string, out: string) => {
          host.create!('double', name, {});
          host.network.link(name, out);
          return true;
        },
      },
    });
    const s = luaScenario({
      plugins: [plugin],
      source: `local tb = require('tributary')
               tb.create_ticker("in", "1s")
               tb.create_sink("out", function(n) end)
               tb.double_to("d", "out")
               tb.link("in", "d")`,
      inputs: { in: { marbles: '-a-b|', values: { a: 1, b: 5 } } },
    });
    s.run('10ms');
    s.expectFrames('out', '-a-b|', { a: 2, b: 10 });
  });

  it('a Lua function of a plugin the network lacks is an ordinary nil call, and an unknown create_ suggests', () => {
    const net = new Network();
    const runtime = new LuaRuntime(net);
    try {
      expect(() => runtime.runString('require("tributary").create_tickr("t", "1s")', 's.lua')).toThrow(
        /s\.lua:1: create_tickr: unknown node kind 'tickr' .*did you mean 'create_ticker'\?/,
      );
      expect(() => runtime.runString('require("tributary").declare_table("t")', 's.lua')).toThrow(
        /s\.lua:1: attempt to call a nil value \(field 'declare_table'\)/,
      );
    } finally {
      runtime.close();
    }
    expect(new VirtualTime()).toBeDefined();
  });
});

describe('TributaryError codes', () => {
  it('plugin registration conflicts are DUPLICATE_NODE errors', () => {
    const r = createRegistry();
    try {
      r.register(double).register(double);
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(TributaryError);
      expect((e as TributaryError).code).toBe('DUPLICATE_NODE');
    }
  });
});
