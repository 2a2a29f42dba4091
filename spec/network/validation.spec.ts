import { Network, TributaryError, nodes } from 'tributary';

function net3(): Network {
  const net = new Network();
  net.add('src', nodes.from({ items: [1] }));
  net.add('mid', nodes.forwarder());
  net.add('out', nodes.discarder());
  return net;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TributaryError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return undefined;
}

describe('building a network', () => {
  it('rejects an unknown node in link, naming it and listing the nodes', () => {
    expect(codeOf(() => net3().link('src', 'nope'))).toBe("UNKNOWN_NODE: unknown node 'nope' (nodes: src, mid, out)");
  });

  it('rejects a duplicate name', () => {
    const net = net3();
    expect(codeOf(() => net.add('mid', nodes.forwarder()))).toBe("DUPLICATE_NODE: node 'mid' already exists");
  });

  it('rejects reserved and malformed names', () => {
    const net = new Network();
    expect(codeOf(() => net.add('$errors', nodes.forwarder()))).toMatch(/^RESERVED_NAME: node name '\$errors' is reserved/);
    expect(codeOf(() => net.add('__proto__', nodes.forwarder()))).toMatch(/^RESERVED_NAME/);
    expect(codeOf(() => net.add('', nodes.forwarder()))).toMatch(/^BAD_OPTION: node name must be a non-empty string/);
    expect(codeOf(() => net.add('a b', nodes.forwarder()))).toMatch(/may not contain spaces/);
  });

  it('rejects linking into a source and out of a sink', () => {
    const net = net3();
    expect(codeOf(() => net.link('mid', 'src'))).toBe("BAD_LINK: cannot link 'mid' -> 'src': 'src' is a source and takes no input");
    expect(codeOf(() => net.link('out', 'mid'))).toBe("BAD_LINK: cannot link 'out' -> 'mid': 'out' is a sink and has no output");
  });

  it('rejects a cycle and names its nodes in order', () => {
    const net = new Network();
    net.add('a', nodes.forwarder()).add('b', nodes.forwarder()).add('c', nodes.forwarder());
    net.link('a', 'b').link('b', 'c');
    expect(codeOf(() => net.link('c', 'a'))).toBe("CYCLE: cannot link 'c' -> 'a': it would close the cycle c -> a -> b -> c");
    expect(codeOf(() => net.link('a', 'a'))).toBe("CYCLE: cannot link 'a' to itself: cycle a -> a");
  });

  it('rejects the same edge twice', () => {
    const net = net3();
    net.link('src', 'mid');
    expect(codeOf(() => net.link('src', 'mid'))).toBe("BAD_LINK: 'src' is already linked to 'mid'");
  });

  it('checks every target of fanout/fanin before adding any edge', () => {
    const net = net3();
    expect(codeOf(() => net.fanout('src', 'mid', 'ghost'))).toMatch(/^UNKNOWN_NODE: unknown node 'ghost'/);
    expect(net.edges().src).toEqual([]);
    expect(codeOf(() => net.fanin('out', 'mid', 'ghost'))).toMatch(/^UNKNOWN_NODE/);
    expect(net.edges().mid).toEqual([]);
  });

  it('reports unconnected nodes and refuses to start with them', async () => {
    const net = net3();
    net.link('src', 'mid');
    expect(net.isUnconnected('src')).toBe(false);
    expect(net.isUnconnected('mid')).toBe(true);
    expect(net.isUnconnected('out')).toBe(true);
    expect(net.isConnected()).toBe(false);
    expect(net.unconnected()).toEqual(["node 'mid' (pipeline) has no output", "node 'out' (sink) has no input"]);
    await expect(net.start()).rejects.toThrow(
      "network is not connected: node 'mid' (pipeline) has no output; node 'out' (sink) has no input",
    );
    expect(net.state).toBe('building');
    net.link('mid', 'out');
    expect(net.isConnected()).toBe(true);
  });

  it('rejects an empty network and unknown names in isUnconnected', async () => {
    await expect(new Network().start()).rejects.toThrow('network has no nodes');
    expect(() => net3().isUnconnected('ghost')).toThrow(/unknown node 'ghost'/);
  });

  it('builds registered kinds by name with option errors naming the node', () => {
    const net = new Network();
    net.create('ratelimit', 'filter_2s', { interval: '2s' });
    expect(net.get('filter_2s')?.kind).toBe('ratelimit');
    expect(codeOf(() => net.create('ratelimit', 'bad', { interval: '2 seconds' }))).toMatch(
      /^BAD_OPTION: node 'bad': node kind 'ratelimit': option 'interval': bad duration "2 seconds"/,
    );
    expect(codeOf(() => net.create('nonsense', 'x'))).toMatch(/^UNKNOWN_KIND: node 'x': unknown node kind 'nonsense' \(known: .*ticker/);
    expect(net.exists('bad')).toBe(false);
  });

  it('freezes the wiring once started', async () => {
    const net = net3();
    net.link('src', 'mid').link('mid', 'out');
    await net.start();
    expect(codeOf(() => net.add('late', nodes.forwarder()))).toMatch(/^STATE: cannot add node 'late': the network is (running|stopped)/);
    await net.stop();
  });

  it('lists edges per node in insertion order', () => {
    const net = net3();
    net.add('out2', nodes.discarder());
    net.link('src', 'mid');
    net.fanout('mid', 'out2', 'out');
    expect(net.edges()).toEqual({ src: ['mid'], mid: ['out2', 'out'], out: [], out2: [] });
  });
});

describe('node names with quotes', () => {
  it('refuses a single quote as it does a double quote (names are quoted in every message)', () => {
    const net = new Network();
    expect(() => net.add("a'b", nodes.forwarder())).toThrow(/node name "a'b" may not contain spaces, quotes or control characters/);
    expect(() => net.add('a"b', nodes.forwarder())).toThrow(/may not contain spaces, quotes or control characters/);
  });
});
