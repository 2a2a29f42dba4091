import { Network, nodes } from 'tributary';
import { VirtualTime } from 'tributary/testing';

/**
 * Issue 9, point 4: a chain of 1,500 forwarders overflowed the stack and lost every event
 * silently. Compile and run do not nest per node: chains of 10,000 nodes and 1,000-way
 * fan-outs run and deliver every event, in order, on a virtual clock too.
 */
describe('deep and wide graphs', () => {
  function chain(n: number, net: Network, from = 'src'): string {
    let prev = from;
    for (let i = 0; i < n; i++) {
      net.add(`f${i}`, nodes.forwarder());
      net.link(prev, `f${i}`);
      prev = `f${i}`;
    }
    return prev;
  }

  it('a 10,000-node chain delivers every event in order and completes', async () => {
    const seen: number[] = [];
    const net = new Network();
    net.add('src', nodes.from({ items: [1, 2, 3, 4, 5] }));
    net.add('out', nodes.sink({ fn: (n: number) => void seen.push(n) }));
    net.link(chain(10_000, net), 'out');
    await net.start();
    const report = await net.done();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(report.stats.out.in).toBe(5);
    expect(report.failure).toBeUndefined();
  });

  it('a 1,000-way fan-out of 4-node chains fanned back in delivers every event to every branch', async () => {
    const seen = new Map<number, number>();
    const net = new Network();
    net.add('src', nodes.from({ items: [1, 2] }));
    net.add('out', nodes.sink({ fn: (n: number) => void seen.set(n, (seen.get(n) ?? 0) + 1) }));
    const ends: string[] = [];
    const heads: string[] = [];
    for (let b = 0; b < 1000; b++) {
      net.add(`b${b}`, nodes.forwarder());
      heads.push(`b${b}`);
      let prev = `b${b}`;
      for (let i = 0; i < 3; i++) {
        net.add(`b${b}_${i}`, nodes.forwarder());
        net.link(prev, `b${b}_${i}`);
        prev = `b${b}_${i}`;
      }
      ends.push(prev);
    }
    net.fanout('src', ...heads);
    net.fanin('out', ...ends);
    await net.start();
    await net.done();
    expect([...seen]).toEqual([
      [1, 1000],
      [2, 1000],
    ]);
  });

  it('a 5,000-node chain on a virtual clock: ticks arrive in their frames', () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    net.add('src', t.source('-a-b-|', { a: 1, b: 2 }));
    const out = t.sink<number>();
    net.add('out', out.node);
    net.link(chain(5_000, net), 'out');
    t.run(net, '10ms');
    expect(out.frames).toEqual([
      { frame: 1, value: 1 },
      { frame: 3, value: 2 },
    ]);
  });

  it('stopping a running 10,000-node chain (an endless source) drains without overflowing', async () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    net.add('src', nodes.ticker({ interval: '1s' }));
    const out = t.sink<number>();
    net.add('out', out.node);
    net.link(chain(10_000, net), 'out');
    const report = t.run(net, '3500ms');
    expect(out.frames.map((f) => f.frame)).toEqual([1000, 2000, 3000]);
    expect(report.timedOut).toBe(false);
  });
});
