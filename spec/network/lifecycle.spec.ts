import { of, map, Observable } from 'rxjs';
import { Network, nodes, createDelivery, createEvent, type Event, type Logger } from 'tributary';
import { VirtualTime } from 'tributary/testing';

function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => lines.push(`warn: ${m}`), error: (m) => lines.push(`error: ${m}`) };
}

describe('network lifecycle', () => {
  it('loses nothing from a synchronous source at start-up, even across a fan-out', async () => {
    const a: number[] = [];
    const b: number[] = [];
    const net = new Network();
    net.add('numbers', of(1, 2, 3));
    net.add('fork', nodes.forwarder());
    net.add('a', nodes.sink({ fn: (n: number) => a.push(n) }));
    net.add('b', nodes.sink({ fn: (n: number) => b.push(n) }));
    net.link('numbers', 'fork');
    net.fanout('fork', 'a', 'b');
    await net.start();
    const report = await net.done();
    expect(a).toEqual([1, 2, 3]);
    expect(b).toEqual([1, 2, 3]);
    expect(report.stats.fork).toMatchObject({ in: 3, out: 3 });
    expect(net.state).toBe('stopped');
  });

  it('loses nothing when a synchronous source feeds two fan-out points in a row', async () => {
    const seen: string[] = [];
    const net = new Network();
    net.add('numbers', of(1, 2));
    net.add('f1', nodes.forwarder());
    net.add('f2', nodes.forwarder());
    net.add('x', nodes.sink({ fn: (n: number) => seen.push(`x${n}`) }));
    net.add('y', nodes.sink({ fn: (n: number) => seen.push(`y${n}`) }));
    net.add('z', nodes.sink({ fn: (n: number) => seen.push(`z${n}`) }));
    net.fanout('numbers', 'f1', 'z');
    net.fanout('f1', 'f2', 'x');
    net.link('f2', 'y');
    await net.start();
    await net.done();
    expect(seen.sort()).toEqual(['x1', 'x2', 'y1', 'y2', 'z1', 'z2']);
  });

  it('stop() drains in-flight async work before resolving', async () => {
    const finished: number[] = [];
    const release: (() => void)[] = [];
    const net = new Network();
    // A source that never ends on its own: only stop() completes it.
    net.add(
      'numbers',
      new Observable<number>((s) => {
        s.next(1);
        s.next(2);
        s.next(3);
      }),
    );
    net.add('slow', nodes.map({ fn: (n: number) => new Promise<number>((r) => release.push(() => r(n))), concurrency: 3 }));
    net.add('out', nodes.sink({ fn: (n: number) => finished.push(n) }));
    net.link('numbers', 'slow').link('slow', 'out');
    await net.start();
    expect(release).toHaveLength(3);
    const stopping = net.stop();
    expect(net.state).toBe('stopping');
    await Promise.resolve();
    expect(finished).toEqual([]);
    release.forEach((r) => r());
    const report = await stopping;
    expect(finished.sort()).toEqual([1, 2, 3]);
    expect(report.timedOut).toBe(false);
    expect(report.stats.out.in).toBe(3);
  });

  it('stop() is safe to call twice and before start', async () => {
    const net = new Network();
    net.add('numbers', new Observable<number>(() => undefined));
    net.add('out', nodes.discarder());
    net.link('numbers', 'out');
    await net.start();
    const [r1, r2] = await Promise.all([net.stop(), net.stop()]);
    expect(r1).toBe(r2);
    expect(await net.stop()).toBe(r1);

    const idle = new Network();
    await expect(idle.stop()).resolves.toMatchObject({ timedOut: false });
    expect(idle.state).toBe('stopped');
  });

  it('cuts the network off when the drain passes its timeout (virtual time)', () => {
    const t = new VirtualTime();
    const logger = quietLogger();
    const net = new Network({ scheduler: t.scheduler, logger, drainTimeout: '5s' });
    net.add('numbers', t.source('a', { a: 1 }));
    net.add('stuck', nodes.sink({ fn: () => new Promise(() => undefined) }));
    net.link('numbers', 'stuck');
    const report = t.run(net, '1s');
    expect(report.timedOut).toBe(true);
    expect(net.state).toBe('stopped');
    expect(logger.lines).toEqual(['warn: drain did not finish within 5000ms; cutting the network off']);
  });

  it('reports a broken network (an RxJS error) instead of hanging', async () => {
    const logger = quietLogger();
    const net = new Network({ logger });
    net.add('numbers', of(1, 2));
    net.add(
      'broken',
      nodes.eventOperator(
        map((e: Event) => {
          if (e.payload === 2) throw new Error('operator blew up');
          return e;
        }),
      ),
    );
    net.add('out', nodes.discarder());
    net.link('numbers', 'broken').link('broken', 'out');
    await net.start();
    const report = await net.done();
    expect(report.failure).toBe("network broke at 'out': operator blew up");
    expect(logger.lines).toEqual(["error: network broke at 'out': operator blew up"]);
  });

  it('keeps running when a node fails for one event, and counts the error', async () => {
    const logger = quietLogger();
    const got: number[] = [];
    const net = new Network({ logger });
    net.add('numbers', of(1, 2, 3));
    net.add(
      'inverse',
      nodes.map({
        fn: (n: number) => {
          if (n === 2) throw new Error('two is bad');
          return 10 / n;
        },
      }),
    );
    net.add('out', nodes.sink({ fn: (n: number) => got.push(n) }));
    net.link('numbers', 'inverse').link('inverse', 'out');
    await net.start();
    const report = await net.done();
    expect(got).toEqual([10, 10 / 3]);
    expect(report.stats.inverse).toMatchObject({ in: 3, out: 3, errors: 1 });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/^warn: node 'out': error event \S+ from 'inverse': two is bad$/);
  });

  it('routes error events to an error sink instead of onward', async () => {
    const good: number[] = [];
    const bad: unknown[] = [];
    const net = new Network();
    net.add('numbers', of(1, 2, 3, 4));
    net.add(
      'even_only',
      nodes.map({
        fn: (n: number) => {
          if (n % 2) throw new Error(`odd ${n}`);
          return n;
        },
      }),
    );
    net.add('out', nodes.sink({ fn: (n: number) => good.push(n) }));
    net.add('dead_letters', nodes.sink({ fn: (letter: unknown) => bad.push(letter) }));
    net.link('numbers', 'even_only').link('even_only', 'out');
    net.routeErrors('even_only', 'dead_letters');
    await net.start();
    await net.done();
    expect(good).toEqual([2, 4]);
    expect(bad).toEqual([
      { error: 'odd 1', node: 'even_only', payload: 1 },
      { error: 'odd 3', node: 'even_only', payload: 3 },
    ]);
  });
});

describe('dead letters', () => {
  it("carry the thrown value's code, so a program can tell failures apart without parsing messages", async () => {
    const letters: unknown[] = [];
    const net = new Network();
    net.add('calls', of('refused', 'option', 'plain', 'string', 'ok'));
    net.add(
      'work',
      nodes.map({
        fn: (what: string) => {
          if (what === 'refused') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
          if (what === 'option') return nodes.map({ fn: 42 as unknown as () => unknown });
          if (what === 'plain') throw new Error('no code here');
          if (what === 'string') throw 'just a string';
          return what;
        },
      }),
    );
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.add('dead', nodes.sink({ fn: (l: unknown) => void letters.push(l) }));
    net.link('calls', 'work').link('work', 'out');
    net.routeErrors('work', 'dead');
    await net.start();
    await net.done();
    expect(letters).toEqual([
      { error: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED', node: 'work', payload: 'refused' },
      { error: expect.stringContaining("option 'fn'"), code: 'BAD_OPTION', node: 'work', payload: 'option' },
      { error: 'no code here', node: 'work', payload: 'plain' },
      { error: 'just a string', node: 'work', payload: 'string' },
    ]);
    // Absent, not undefined, when there is none: a letter written out as JSON has no empty field.
    expect(Object.keys(letters[2] as object)).toEqual(['error', 'node', 'payload']);
  });
});

describe('a failing source', () => {
  it('is reported and closed while the rest of the network keeps running', async () => {
    const lines: string[] = [];
    const got: number[] = [];
    const net = new Network({ logger: { warn: (m) => lines.push(m), error: (m) => lines.push(m) } });
    net.add('good', of(1, 2));
    net.add(
      'bad',
      new Observable<number>((s) => {
        s.next(10);
        s.error(new Error('socket closed'));
      }),
    );
    net.add('out', nodes.sink({ fn: (n: number) => got.push(n) }));
    net.fanin('out', 'good', 'bad');
    await net.start();
    const report = await net.done();
    expect(got.sort((a, b) => a - b)).toEqual([1, 2, 10]);
    expect(report.failure).toBeUndefined();
    expect(report.stats.bad).toMatchObject({ out: 1, errors: 1 });
    expect(lines).toEqual(["source 'bad' failed and was closed: socket closed"]);
  });
});

describe('a network cut off at its drain timeout', () => {
  it('nacks the events still queued or running, so an acking source can redeliver them', () => {
    const t = new VirtualTime();
    const settled: string[] = [];
    const events = [1, 2, 3].map((n) =>
      createEvent(n, { delivery: createDelivery((s) => settled.push(`${n}:${s.acked ? 'ack' : 'nack'}`)) }),
    );
    const net = new Network({ scheduler: t.scheduler, logger: quietLogger(), drainTimeout: '1s' });
    net.add('in', nodes.from({ items: of(...events) }));
    net.add('stuck', nodes.sink({ fn: () => new Promise(() => undefined), concurrency: 1 }));
    net.link('in', 'stuck');
    const report = t.run(net, '1ms');
    expect(report.timedOut).toBe(true);
    expect(settled.sort()).toEqual(['1:nack', '2:nack', '3:nack']);
  });

  it('nacks the events of a batch flushed at stop into a sink that never finishes', () => {
    const t = new VirtualTime();
    const settled: string[] = [];
    const events = [1, 2].map((n) => createEvent(n, { delivery: createDelivery((s) => settled.push(`${n}:${s.acked ? 'ack' : 'nack'}`)) }));
    const net = new Network({ scheduler: t.scheduler, logger: quietLogger(), drainTimeout: '1s' });
    // The source never completes and the batch never fills, and the sink is stuck: only the cut-off ends it.
    net.add(
      'in',
      new Observable<Event>((s) => {
        events.forEach((e) => s.next(e));
      }),
    );
    net.add('batch', nodes.buffer({ size: 10 }));
    net.add('stuck', nodes.sink({ fn: () => new Promise(() => undefined) }));
    net.link('in', 'batch').link('batch', 'stuck');
    // Stopping completes the source, which flushes the batch into the stuck sink; then the cut-off nacks it.
    const report = t.run(net, '1ms');
    expect(report.timedOut).toBe(true);
    expect(settled.sort()).toEqual(['1:nack', '2:nack']);
  });
});
