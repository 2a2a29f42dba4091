/**
 * The event-time kinds as a plugin: each catalogue example runs as written, the built-in
 * plugins load the family only when a script uses one of its kinds, and in a network the
 * late events reach the node their errors are routed to, as dead letters.
 */
import * as ts from 'typescript';
import { Network, createRegistry, nodes, type DeadLetter } from 'tributary';
import { VirtualTime } from 'tributary/testing';
import { eventtime, eventTimePlugin } from '../../lib/eventtime';
import { builtinPlugins } from '../../lib/plugins';
import { bet, res } from './support';

const kinds = eventTimePlugin.kinds.map((f) => f.kind);

describe('event-time kinds in the catalogue', () => {
  it.each(kinds.map((k) => [k.name, k] as const))('%s: its example adds one node of its kind', (name, kind) => {
    const net = new Network({ scheduler: new VirtualTime().scheduler });
    const { outputText, diagnostics } = ts.transpileModule(kind.example, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      reportDiagnostics: true,
    });
    expect(diagnostics ?? []).toEqual([]);
    new Function('net', 'eventtime', outputText)(net, eventtime);
    const added = net.toJSON().nodes;
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ kind: name, role: 'pipeline' });
    expect(kind.luaExample).toMatch(new RegExp(`^tb\\.create_${name}\\(`));
  });

  it('builtinPlugins offers the kinds without loading the family until one is used', () => {
    const registry = createRegistry({ plugins: builtinPlugins() });
    expect(registry.pluginOf('tumbling_window')).toBe('eventtime');
    expect(registry.loaded().map((k) => k.name)).not.toContain('tumbling_window');
    expect(registry.create('session_window', { gap: '1m' }).kind).toBe('session_window');
    expect(registry.loaded().map((k) => k.name)).toEqual(expect.arrayContaining(kinds.map((k) => k.name)));
  });
});

describe('in a network', () => {
  it('late events go down the error route as dead letters; results to the linked sink; the end of input fires the rest', () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler, plugins: builtinPlugins() });
    const out = t.sink();
    const late = t.sink<DeadLetter>();
    net.add('bets', t.source('a 9ms b 9ms c 9ms |', { a: bet(15_000, 'c1', 5), b: bet(31_000, 'c2', 7), c: bet(2_000, 'c1', 1) }));
    net.create('tumbling_window', 'stake_per_10s', { size: '10s', key: 'k', aggregate: 'sum', field: 'v', timeField: 't' });
    net.add('out', out.node);
    net.add('late_bets', late.node);
    net.link('bets', 'stake_per_10s');
    net.link('stake_per_10s', 'out');
    net.routeErrors('stake_per_10s', 'late_bets');
    const report = t.run(net, '1s');
    expect(out.frames).toEqual([
      { frame: 10, value: res('c1', 10_000, 20_000, 1, 5) },
      { frame: 30, value: res('c2', 30_000, 40_000, 1, 7) },
    ]);
    expect(late.frames).toEqual([
      {
        frame: 20,
        value: {
          error: 'late event: event time 2000 is behind the watermark 31000 by more than allowedLateness 0ms; its window has closed',
          code: 'LATE_EVENT',
          node: 'stake_per_10s',
          payload: bet(2_000, 'c1', 1),
        },
      },
    ]);
    expect(report.stats.stake_per_10s).toMatchObject({ in: 3, out: 3, errors: 1 });
  });

  it('without a route, a late event reaches the sink as an error event and is nacked there — counted, never silently dropped', () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler, logger: { warn: () => undefined, error: () => undefined } });
    const out = t.sink();
    net.add('bets', t.source('a b|', { a: bet(20), b: bet(1) }));
    net.add('w', eventtime.tumblingWindow({ size: 10, timeField: 't' }));
    net.add('log', nodes.forwarder());
    net.add('out', out.node);
    net.link('bets', 'w');
    net.link('w', 'log');
    net.link('log', 'out');
    t.run(net, '10ms');
    expect(out.frames.map((f) => f.value)).toEqual([{ error: expect.stringMatching(/^late event/) }, res(null, 20, 30, 1)]);
  });
});
