import { nodes } from 'tributary';
import { Graph } from '../../lib/network/graph';

/** numbers → enrich → store, with enrich's errors routed to dead_letters. */
function graph(): Graph {
  return new Graph()
    .add('numbers', nodes.from({ items: [1] }))
    .add('enrich', nodes.forwarder())
    .add('store', nodes.discarder())
    .add('dead_letters', nodes.discarder())
    .link('numbers', 'enrich')
    .link('enrich', 'store')
    .routeErrors('enrich', 'dead_letters');
}

describe('Graph', () => {
  it('lists a node’s successors with its error route last', () => {
    expect(graph().successors('enrich')).toEqual(['store', 'dead_letters']);
  });

  it('finds paths through error routes, and none against the edges', () => {
    const g = graph();
    expect(g.pathBetween('numbers', 'dead_letters')).toEqual(['numbers', 'enrich', 'dead_letters']);
    expect(g.pathBetween('store', 'numbers')).toBeUndefined();
  });

  it('orders every producer before its consumers', () => {
    const order = graph().topoOrder();
    expect(order).toHaveLength(4);
    for (const [from, to] of [
      ['numbers', 'enrich'],
      ['enrich', 'store'],
      ['enrich', 'dead_letters'],
    ]) {
      expect(order.indexOf(from)).toBeLessThan(order.indexOf(to));
    }
  });

  it('refuses an edge that would close a cycle, naming it', () => {
    const g = new Graph().add('a', nodes.forwarder()).add('b', nodes.forwarder()).link('a', 'b');
    expect(() => g.checkEdge('b', 'a')).toThrow("cannot link 'b' -> 'a': it would close the cycle b -> a -> b");
  });

  it('validates completeness only, listing every problem', () => {
    const g = new Graph().add('a', nodes.forwarder()).add('out', nodes.discarder());
    expect(g.unconnected()).toEqual([
      "node 'a' (pipeline) has no input",
      "node 'a' (pipeline) has no output",
      "node 'out' (sink) has no input",
    ]);
    expect(() => g.validate()).toThrow(/^network is not connected: /);
    expect(() => new Graph().validate()).toThrow('network has no nodes');
    expect(() => graph().validate()).not.toThrow();
  });

  it('gives its edges and error routes as plain data', () => {
    expect(graph().toJSON().edges).toEqual([
      { from: 'numbers', to: 'enrich' },
      { from: 'enrich', to: 'store' },
      { from: 'enrich', to: 'dead_letters', errors: true },
    ]);
  });
});
