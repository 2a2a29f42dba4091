import { Network, nodes } from 'tributary';

function readmeNetwork(): Network {
  const net = new Network();
  net.add('tick_printer', nodes.tester({ indicator: '.' }));
  net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
  net.add('filter_2s', nodes.ratelimit({ interval: '2s' }));
  net.add('forwarder1', nodes.forwarder());
  net.add('forwarder2', nodes.forwarder());
  net.link('ticker_500ms', 'forwarder1');
  net.fanout('forwarder1', 'filter_2s', 'forwarder2');
  net.fanin('tick_printer', 'filter_2s', 'forwarder2');
  return net;
}

describe('rendering a network', () => {
  it('draws Graphviz DOT with stable order, quoted ids and shapes by role', () => {
    expect(readmeNetwork().toDot()).toBe(
      [
        'digraph "tributary" {',
        '  rankdir=LR;',
        '  node [fontname="Helvetica"];',
        '  "tick_printer" [shape=oval, style=filled, fillcolor="#fdae61", tooltip="tester"];',
        '  "ticker_500ms" [shape=oval, style=filled, fillcolor="#a6d96a", tooltip="ticker"];',
        '  "filter_2s" [shape=box, style=filled, fillcolor="#ffffff", tooltip="ratelimit"];',
        '  "forwarder1" [shape=box, style=filled, fillcolor="#ffffff", tooltip="forwarder"];',
        '  "forwarder2" [shape=box, style=filled, fillcolor="#ffffff", tooltip="forwarder"];',
        '  "ticker_500ms" -> "forwarder1";',
        '  "filter_2s" -> "tick_printer";',
        '  "forwarder1" -> "filter_2s";',
        '  "forwarder1" -> "forwarder2";',
        '  "forwarder2" -> "tick_printer";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('draws unconnected nodes, quotes ids that are not bare DOT ids and dashes error routes', () => {
    const net = new Network();
    net.add('bets.in-1', nodes.from({ items: [] }));
    net.add('alone', nodes.forwarder());
    net.add('m', nodes.map({ fn: (x: unknown) => x }));
    net.add('dlq', nodes.discarder());
    net.add('out', nodes.discarder());
    net.link('bets.in-1', 'm').link('m', 'out');
    net.routeErrors('m', 'dlq');
    const dot = net.toDot();
    expect(dot).toContain('"bets.in-1" [shape=oval');
    expect(dot).toContain('"alone" [shape=box');
    expect(dot).toContain('"m" -> "dlq" [style=dashed, color="#d7191c", label="errors"];');
  });

  it('prints the GoFlow text tree, DAG-safe', () => {
    expect(readmeNetwork().toTree()).toBe(
      [
        'ticker_500ms (c 1)',
        ' +--> forwarder1 (c 2)',
        '       +--> filter_2s (c 1)',
        '       |     +--> tick_printer (c 0)',
        '       +--> forwarder2 (c 1)',
        '             +--> tick_printer (c 0)',
        '',
      ].join('\n'),
    );
  });

  it('shows a shared subtree once and marks the repeat', () => {
    const net = new Network();
    net.add('s', nodes.from({ items: [] }));
    net.add('a', nodes.forwarder()).add('b', nodes.forwarder()).add('join', nodes.forwarder());
    net.add('out', nodes.discarder());
    net.fanout('s', 'a', 'b');
    net.fanin('join', 'a', 'b');
    net.link('join', 'out');
    expect(net.toTree()).toBe(
      [
        's (c 2)',
        ' +--> a (c 1)',
        ' |     +--> join (c 1)',
        ' |           +--> out (c 0)',
        ' +--> b (c 1)',
        '       +--> join (c 1) [see above]',
        '',
      ].join('\n'),
    );
  });

  it('exports the graph as JSON', () => {
    const json = readmeNetwork().toJSON();
    expect(json.nodes[1]).toEqual({ name: 'ticker_500ms', role: 'source', kind: 'ticker' });
    expect(json.edges).toContainEqual({ from: 'forwarder1', to: 'forwarder2' });
    expect(json.edges).toHaveLength(5);
  });
});
