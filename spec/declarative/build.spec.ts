import { Network, nodes } from 'tributary';
import { luaScenario } from 'tributary/testing';
import { buildFromDocument, type NetworkDocument } from '../../lib/declarative';
import { loadNetworkText } from '../../lib/declarative/load';
import { LuaRuntime } from '../../lib/lua/runtime';

/** Builds YAML text onto a fresh network (no runtime) and returns the error message, or '' when it built. */
function buildError(text: string, env: Record<string, string> = {}): string {
  try {
    loadNetworkText(new Network(), text, 'network.yaml', { env });
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('declarative networks: building', () => {
  it('builds nodes with their options and wires link, fan-out, fan-in and error routes', () => {
    const net = new Network();
    net.registry.register(nodes.sink.kind, { replace: true });
    const doc: NetworkDocument = {
      nodes: [
        { name: 'ticker_500ms', kind: 'ticker', options: { interval: '500ms' } },
        { name: 'forwarder1', kind: 'forwarder' },
        { name: 'filter_2s', kind: 'ratelimit', options: { interval: '2s' } },
        { name: 'forwarder2', kind: 'forwarder' },
        { name: 'tick_printer', kind: 'tester', options: { indicator: '.' } },
        { name: 'dead', kind: 'discarder' },
      ],
      edges: [
        { from: 'ticker_500ms', to: 'forwarder1' },
        { from: 'forwarder1', to: ['filter_2s', 'forwarder2'] },
        { from: ['filter_2s', 'forwarder2'], to: 'tick_printer' },
        { from: 'forwarder2', to: 'dead', errors: true },
      ],
    };
    const result = buildFromDocument(net, doc, { file: 'n.json' });
    expect(result.nodes).toEqual(['ticker_500ms', 'forwarder1', 'filter_2s', 'forwarder2', 'tick_printer', 'dead']);
    expect(net.toJSON().edges).toEqual([
      { from: 'ticker_500ms', to: 'forwarder1' },
      { from: 'forwarder1', to: 'filter_2s' },
      { from: 'forwarder1', to: 'forwarder2' },
      { from: 'filter_2s', to: 'tick_printer' },
      { from: 'forwarder2', to: 'tick_printer' },
      { from: 'forwarder2', to: 'dead', errors: true },
    ]);
    expect(net.describe('filter_2s')).toEqual({ name: 'filter_2s', role: 'pipeline', kind: 'ratelimit', options: { interval: '2s' } });
    expect(net.isConnected()).toBe(true);
  });

  it('runs the quickstart network from YAML on virtual time: 25 dots in 10 s', () => {
    const s = luaScenario({
      name: 'network.yaml',
      source: `
nodes:
  - { name: tick_printer, kind: tester, options: { indicator: "." } }
  - { name: ticker_500ms, kind: ticker, options: { interval: 500ms } }
  - { name: filter_2s, kind: ratelimit, options: { interval: 2s } }
  - { name: forwarder1, kind: forwarder }
  - { name: forwarder2, kind: forwarder }
edges:
  - { from: ticker_500ms, to: forwarder1 }
  - { from: forwarder1, to: [filter_2s, forwarder2] }
  - { from: [filter_2s, forwarder2], to: tick_printer }
`,
    });
    const report = s.run('10s');
    expect(s.output.text).toBe('.'.repeat(25));
    expect(report.stats.filter_2s).toMatchObject({ in: 20, out: 5, dropped: 15 });
  });

  it('gives function options as Lua source, run in the sandboxed VM', () => {
    const s = luaScenario({
      name: 'network.yaml',
      source: `
nodes:
  - name: bets
    kind: ticker
    options: { interval: 1s }
  - name: liability
    kind: map
    options:
      fn: |
        function(bet)
          return { customer = bet.customer, liability = bet.stake * (bet.odds - 1) }
        end
  - name: big
    kind: where
    options: { fn: "function(p) return p.liability > 10 end" }
  - name: out
    kind: sink
    options: { fn: { lua: "function(p) end" } }
edges:
  - { from: bets, to: liability }
  - { from: liability, to: big }
  - { from: big, to: out }
`,
      inputs: {
        bets: { marbles: '-a-b|', values: { a: { customer: 'c1', stake: 10, odds: 3 }, b: { customer: 'c2', stake: 5, odds: 1.5 } } },
      },
    });
    s.run('10ms');
    s.expectFrames('out', '-a--|', { a: { customer: 'c1', liability: 20 } });
  });

  it('a Lua error in a function option names the file line it was written on', () => {
    const s = luaScenario({
      name: 'network.yaml',
      source: [
        'nodes:',
        '  - { name: n, kind: ticker, options: { interval: 1s } }',
        '  - name: m',
        '    kind: map',
        '    options:',
        '      fn: |',
        '        function(p)',
        '          return p.missing.field',
        '        end',
        '  - { name: out, kind: sink, options: { fn: { lua: "function(p) end" } } }',
        'edges:',
        '  - { from: n, to: m }',
        '  - { from: m, to: out }',
        '',
      ].join('\n'),
      inputs: { n: { marbles: 'a|', values: { a: {} } } },
      logger: { warn: () => {}, error: () => {} },
    });
    s.run('10ms');
    expect(s.sinks.out.frames).toHaveLength(1);
    expect(s.sinks.out.frames[0].value).toEqual({ error: expect.stringMatching(/^network\.yaml:8: .*attempt to index a nil value/) });
  });

  it('Lua source that is not a function expression is an error naming the node and line', () => {
    const net = new Network();
    const runtime = new LuaRuntime(net);
    try {
      expect(() =>
        loadNetworkText(net, 'nodes:\n  - name: m\n    kind: map\n    options:\n      fn: "42"\n', 'network.yaml', { runtime }),
      ).toThrow(/^network\.yaml:5:7: node 'm': option 'fn': network\.yaml:5: node 'm': the Lua source must be a function expression/);
      expect(() =>
        loadNetworkText(net, 'nodes:\n  - name: m2\n    kind: map\n    options:\n      fn: "function(p) return p +"\n', 'network.yaml', {
          runtime,
        }),
      ).toThrow(/^network\.yaml:5:7: node 'm2': option 'fn': network\.yaml:5: .*unexpected symbol/);
    } finally {
      runtime.close();
    }
  });

  it('without a Lua runtime, Lua source for a function is refused, saying why', () => {
    expect(buildError('nodes:\n  - name: m\n    kind: map\n    options: { fn: "function(p) return p end" }\n')).toMatch(
      /^network\.yaml:4:16: node 'm': option 'fn': Lua source for a function needs a Lua runtime/,
    );
  });

  it('YAML anchors, aliases and merge keys share options between nodes', () => {
    const net = new Network();
    loadNetworkText(
      net,
      [
        'x-limits: &limits { interval: 2s }',
        'nodes:',
        '  - { name: a, kind: ratelimit, options: *limits }',
        '  - { name: b, kind: dedupe, options: { <<: { duration: 5s } } }',
        'edges: [{ from: a, to: b }]',
        '',
      ].join('\n'),
      'n.yaml',
    );
    expect(net.describe('a')?.options).toEqual({ interval: '2s' });
    expect(net.describe('b')?.options).toEqual({ duration: '5s' });
  });

  it('adds to nodes a script already made, and refuses a name taken', () => {
    const net = new Network();
    net.create('ticker', 'from_lua', { interval: '1s' });
    loadNetworkText(net, 'nodes: [{ name: f, kind: forwarder }]\nedges: [{ from: from_lua, to: f }]\n', 'a.yaml');
    expect(net.edges().from_lua).toEqual(['f']);
    expect(() => loadNetworkText(net, 'nodes:\n  - { name: f, kind: forwarder }\n', 'b.yaml')).toThrow(
      "b.yaml:2:7: node 'f' already exists",
    );
  });
});

describe('declarative networks: errors name the file, line and node', () => {
  it('bad YAML', () => {
    expect(buildError('nodes:\n  - name: a\n   kind: ticker\n')).toMatch(/^network\.yaml:3:\d+: /);
    expect(buildError('nodes:\n  - name: a\n    name: b\n')).toMatch(/^network\.yaml:3:5: Map keys must be unique/);
  });

  it('bad JSON (parsed as YAML: duplicate keys are errors too)', () => {
    expect(buildError('{\n  "nodes": [\n    { "name": "a", "kind": "ticker" ]\n}\n')).toMatch(/^network\.yaml:3:\d+: /);
    expect(buildError('{\n  "nodes": [],\n  "nodes": []\n}\n')).toMatch(/^network\.yaml:3:3: Map keys must be unique/);
  });

  it('not a network: the top level, unknown fields, a node without a kind', () => {
    expect(buildError('- a\n- b\n')).toBe("network.yaml:1:1: a network file holds an object with 'nodes' and 'edges', got a list");
    expect(buildError('nodes: []\nedegs: []\n')).toBe(
      "network.yaml:2:1: a network: unknown field 'edegs' (fields: $schema, version, nodes, edges) — did you mean 'edges'?",
    );
    expect(buildError('{ "$schema": "./network.schema.json", "nodes": [] }')).toBe('');
    expect(buildError('nodes:\n  - name: a\n    knd: ticker\n')).toBe(
      "network.yaml:3:5: nodes[0]: unknown field 'knd' (fields: name, kind, options) — did you mean 'kind'?",
    );
    expect(buildError('nodes:\n  - name: a\n')).toBe("network.yaml:2:5: node 'a' needs a kind (a string)");
    expect(buildError('version: 2\nnodes: []\n')).toBe('network.yaml:1:1: unsupported version 2 (this is version 1)');
  });

  it('an unknown kind, with a suggestion', () => {
    expect(buildError('nodes:\n  - name: t\n    kind: tickr\n')).toMatch(
      /^network\.yaml:3:5: node 't': unknown node kind 'tickr' \(known: .*\) — did you mean 'ticker'\?$/,
    );
  });

  it('a bad option points at its line: unknown, wrong type, bad duration, missing', () => {
    expect(buildError('nodes:\n  - name: t\n    kind: ticker\n    options:\n      intervall: 1s\n')).toBe(
      "network.yaml:5:7: node 't': node kind 'ticker': unknown option 'intervall' (known: interval) — did you mean 'interval'?",
    );
    expect(buildError('nodes:\n  - name: t\n    kind: ticker\n    options:\n      interval: 5 parsecs\n')).toMatch(
      /^network\.yaml:5:7: node 't': node kind 'ticker': option 'interval': bad duration "5 parsecs"/,
    );
    expect(buildError('nodes:\n  - name: p\n    kind: tester\n    options:\n      indicator: 3\n')).toBe(
      "network.yaml:5:7: node 'p': node kind 'tester': option 'indicator' must be a string, got number 3",
    );
    expect(buildError('nodes:\n  - name: t\n    kind: ticker\n    options: {}\n')).toMatch(
      /^network\.yaml:4:5: node 't': node kind 'ticker': option 'interval' is required/,
    );
  });

  it('a duplicate node name names both lines', () => {
    expect(buildError('nodes:\n  - name: a\n    kind: forwarder\n  - name: a\n    kind: forwarder\n')).toBe(
      "network.yaml:4:5: node 'a' is defined twice (first at line 2)",
    );
  });

  it('an edge to a missing node points at the name, with a suggestion', () => {
    const text =
      'nodes:\n  - { name: forwarder1, kind: forwarder }\n  - { name: f2, kind: forwarder }\nedges:\n  - from: forwarder1\n    to: [f2, fowarder1]\n';
    expect(buildError(text)).toBe("network.yaml:6:14: edges[0]: no node 'fowarder1' — did you mean 'forwarder1'?");
  });

  it('an edge closing a cycle is refused at its line', () => {
    const text =
      'nodes:\n  - { name: a, kind: forwarder }\n  - { name: b, kind: forwarder }\nedges:\n  - { from: a, to: b }\n  - { from: b, to: a }\n';
    expect(buildError(text)).toBe("network.yaml:6:5: edges[1]: cannot link 'b' -> 'a': it would close the cycle b -> a -> b");
  });

  it('many-to-many edges and error routes to several targets are refused', () => {
    const nodesText =
      'nodes:\n  - { name: a, kind: forwarder }\n  - { name: b, kind: forwarder }\n  - { name: c, kind: discarder }\n  - { name: d, kind: discarder }\n';
    expect(buildError(nodesText + 'edges:\n  - { from: [a, b], to: [c, d] }\n')).toBe(
      "network.yaml:7:5: edges[0] joins many to many: write a fan-out (one 'from') or a fan-in (one 'to')",
    );
    expect(buildError(nodesText + 'edges:\n  - { from: a, to: [c, d], errors: true }\n')).toBe(
      'network.yaml:7:16: edges[0] routes errors: name one target (error events go to one place)',
    );
  });
});
