import { spawn } from 'node:child_process';
import path from 'node:path';
import { Network, nodes, type NodeSpec } from 'tributary';
import { captureLogger, settlements, tcpProxy, waitFor } from './helpers';

/**
 * What the shared conformance suite needs from a bus connector: a fresh input and output
 * (stream/queue) per test, a way to publish to the input with the plain client, source and
 * sink nodes for them, and a way to read what the sink published.
 */
export interface BusAdapter {
  /** Creates fresh, uniquely named input and output destinations. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Publishes payloads to the input with the plain client, confirmed. */
  publish(payloads: unknown[]): Promise<void>;
  /** A source node reading the input (same consumer/queue every call, so a restart resumes); `url` overrides the address. */
  source(opts: { maxInFlight: number; url?: string }): NodeSpec;
  /** The same source as a registry kind and options, for a pipeline in a child process. */
  sourceKind(opts: { maxInFlight: number }): { kind: string; options: Record<string, unknown> };
  /** The broker's port and a URL for it on another port (through a proxy). */
  port: number;
  urlFor(port: number): string;
  /** A sink node publishing to the output; `url` overrides the address. */
  sink(opts?: { url?: string }): NodeSpec;
  /** A sink node publishing where the broker has nowhere to put the message (no queue / no stream). */
  unroutableSink(): NodeSpec;
  /** What the nack reason of such a publish says. */
  unroutableReason: RegExp;
  /** Every payload the output holds, in order. */
  readOutput(): Promise<unknown[]>;
}

type Bet = { id: number };
const errorText = (e: unknown) => (e instanceof Error ? e.message : String((e as { message?: string })?.message ?? e));
const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i }));

/**
 * Runs the same at-least-once cases against a bus connector: every event processed, none
 * lost, across a killed pipeline, nacks, and a restart.
 */
export function busConformance(name: string, adapter: () => BusAdapter): void {
  describe(`${name}: bus connector conformance`, () => {
    let bus: BusAdapter;
    const cleanups: (() => unknown)[] = [];
    beforeEach(async () => {
      bus = adapter();
      await bus.setup();
    });
    afterEach(async () => {
      for (const c of cleanups.splice(0)) await c();
      await bus.teardown();
    });

    /** source → a sink running `handle` per payload; returns the network (started). */
    async function pipeline(handle: (b: Bet) => unknown, opts: { maxInFlight?: number; concurrency?: number; url?: string } = {}) {
      const logger = captureLogger();
      const net = new Network({ logger, drainTimeout: '10s' });
      net.add('in', bus.source({ maxInFlight: opts.maxInFlight ?? 50, ...(opts.url ? { url: opts.url } : {}) }));
      net.add('work', nodes.sink({ fn: handle, concurrency: opts.concurrency ?? 8 }));
      net.link('in', 'work');
      await net.start();
      cleanups.push(() => net.stop({ timeout: 100 }));
      return { net, logger };
    }

    it('processes every published event and acks it, so a restart sees only new ones', async () => {
      const N = 200;
      await bus.publish(ids(N));
      const seen = new Set<number>();
      const first = await pipeline((b) => void seen.add(b.id));
      await waitFor(() => seen.size === N, `${N} events`);
      const report = await first.net.stop();
      expect(report.timedOut).toBe(false);
      expect(report.stats.work.acked).toBeGreaterThanOrEqual(N);

      // A restart resumes after the acked events: the first thing it sees is the new one.
      const after: number[] = [];
      await pipeline((b) => void after.push(b.id));
      await bus.publish([{ id: N }]);
      await waitFor(() => after.length >= 1, 'the event published after the restart');
      expect(after[0]).toBe(N);
    });

    it('loses nothing when the pipeline is cut off mid-way (stop without drain) and restarted', async () => {
      const N = 300;
      await bus.publish(ids(N));
      const processed = new Set<number>();
      let count = 0;
      const never = new Promise<void>(() => undefined);
      // The first run acks 100 events, then its sink hangs: everything after is in flight when it is killed.
      const first = await pipeline(
        (b) => {
          if (++count > 100) return never;
          processed.add(b.id);
        },
        { maxInFlight: 20 },
      );
      await waitFor(() => count > 100, 'the first run to get stuck');
      const report = await first.net.stop({ timeout: 50 });
      expect(report.timedOut).toBe(true);
      expect(processed.size).toBe(100);

      await pipeline((b) => void processed.add(b.id));
      await waitFor(() => processed.size === N, `all ${N} events after the restart`, 30_000);
      expect([...processed].sort((a, b) => a - b)).toEqual(ids(N).map((b) => b.id));
    });

    it('loses nothing when the process is killed (SIGKILL) mid-way and restarted', async () => {
      const N = 400;
      await bus.publish(ids(N));
      const seen = new Set<number>();
      const child = path.join(__dirname, 'fixtures', 'bus-child.ts');
      const run = (killAfter?: number) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn(
            process.execPath,
            ['-r', 'ts-node/register/transpile-only', child, JSON.stringify(bus.sourceKind({ maxInFlight: 20 }))],
            {
              stdio: ['ignore', 'pipe', 'inherit'],
            },
          );
          let buffer = '';
          let count = 0;
          p.stdout.on('data', (d: Buffer) => {
            buffer += d.toString('utf8');
            const lines = buffer.split('\n');
            buffer = lines.pop()!;
            for (const line of lines) {
              seen.add((JSON.parse(line) as Bet).id);
              count++;
              if (killAfter !== undefined && count === killAfter) p.kill('SIGKILL');
            }
            if (killAfter === undefined && seen.size === N) p.kill('SIGTERM');
          });
          p.on('error', reject);
          p.on('exit', () => resolve());
        });
      await run(120);
      expect(seen.size).toBeGreaterThanOrEqual(120);
      expect(seen.size).toBeLessThan(N);
      await run();
      expect([...seen].sort((a, b) => a - b)).toEqual(ids(N).map((b) => b.id));
    }, 60_000);

    it('survives a dropped connection: reconnects and processes what was published before and after', async () => {
      const proxy = await tcpProxy(bus.port);
      cleanups.push(() => proxy.close());
      const N = 100;
      await bus.publish(ids(N / 2));
      const seen = new Set<number>();
      await pipeline((b) => void seen.add(b.id), { url: bus.urlFor(proxy.port) });
      await waitFor(() => seen.size === N / 2, 'the first half');
      const before = proxy.connections;
      proxy.drop();
      await bus.publish(ids(N).slice(N / 2));
      await waitFor(() => seen.size === N, 'the second half after the reconnect', 30_000);
      expect(proxy.connections).toBeGreaterThan(before);
    }, 40_000);

    it('redelivers events whose processing failed (nack) until they succeed', async () => {
      const N = 100;
      await bus.publish(ids(N));
      const attempts = new Map<number, number>();
      const done = new Set<number>();
      await pipeline((b) => {
        const n = (attempts.get(b.id) ?? 0) + 1;
        attempts.set(b.id, n);
        if (b.id % 10 === 0 && n === 1) throw new Error(`first try of ${b.id} fails`);
        done.add(b.id);
      });
      await waitFor(() => done.size === N, `all ${N} events processed`);
      for (let id = 0; id < N; id += 10) expect(attempts.get(id)).toBeGreaterThanOrEqual(2);
    });

    it('keeps at most maxInFlight events unsettled', async () => {
      const N = 150;
      await bus.publish(ids(N));
      let open = 0;
      let maxOpen = 0;
      let finished = 0;
      await pipeline(
        async () => {
          open++;
          maxOpen = Math.max(maxOpen, open);
          await new Promise((r) => setTimeout(r, 1));
          open--;
          finished++;
        },
        { maxInFlight: 7, concurrency: 100 },
      );
      await waitFor(() => finished >= N, `${N} events`);
      expect(maxOpen).toBeLessThanOrEqual(7);
      expect(maxOpen).toBeGreaterThan(1);
    });

    it('sink: publishes every event, in order, and acks each after the broker confirmed', async () => {
      const N = 250;
      const settled = settlements();
      const net = new Network({ logger: captureLogger() });
      net.add('gen', nodes.from({ items: ids(N), onSettle: settled.onSettle }));
      net.add('out', bus.sink());
      net.link('gen', 'out');
      await net.start();
      const report = await net.done();
      expect(report.stats.out.acked).toBe(N);
      expect(settled.acked()).toHaveLength(N);
      expect(await bus.readOutput()).toEqual(ids(N));
    });

    it('sink: a publish the broker cannot route anywhere is nacked with the reason, never acked', async () => {
      const settled = settlements();
      const logger = captureLogger();
      const net = new Network({ logger });
      net.add('gen', nodes.from({ items: ids(3), onSettle: settled.onSettle }));
      net.add('out', bus.unroutableSink());
      net.link('gen', 'out');
      await net.start();
      const report = await net.done();
      expect(settled.acked()).toEqual([]);
      expect(settled.nacked().map((n) => n.payload)).toEqual(ids(3));
      for (const n of settled.nacked()) expect(errorText(n.reason)).toMatch(bus.unroutableReason);
      expect(report.stats.out.acked).toBe(0);
    });

    it('sink: survives a dropped connection, every event acked and published at least once', async () => {
      const proxy = await tcpProxy(bus.port);
      cleanups.push(() => proxy.close());
      const N = 300;
      const settled = settlements();
      let dropped = false;
      const net = new Network({ logger: captureLogger() });
      net.add(
        'gen',
        nodes.from({
          items: ids(N),
          maxInFlight: 10,
          onSettle: (e, s) => {
            settled.onSettle(e, s);
            if (!dropped && settled.list.length === N / 3) {
              dropped = true;
              proxy.drop();
            }
          },
        }),
      );
      net.add('out', bus.sink({ url: bus.urlFor(proxy.port) }));
      net.link('gen', 'out');
      await net.start();
      await net.done();
      expect(dropped).toBe(true);
      const nacked = settled.nacked();
      // A publish in flight when the connection dropped may fail after its retries; nothing is acked without the broker's confirm.
      expect(settled.acked().length + nacked.length).toBe(N);
      const out = new Set((await bus.readOutput()).map((b) => (b as Bet).id));
      for (const b of settled.acked()) expect(out.has((b as Bet).id)).toBe(true);
      expect(nacked.length).toBeLessThanOrEqual(10);
    }, 40_000);

    it('end to end: bus → network → bus loses nothing across a cut-off and a restart', async () => {
      const N = 200;
      await bus.publish(ids(N));
      const build = async (killAfter?: number) => {
        const net = new Network({ logger: captureLogger(), drainTimeout: '10s' });
        let n = 0;
        net.add('in', bus.source({ maxInFlight: 25 }));
        net.add(
          'gate',
          nodes.map({
            fn: async (b: Bet) => (killAfter !== undefined && ++n > killAfter ? new Promise(() => undefined) : b),
            concurrency: 25,
          }),
        );
        net.add('out', bus.sink());
        net.link('in', 'gate').link('gate', 'out');
        await net.start();
        cleanups.push(() => net.stop({ timeout: 100 }));
        return net;
      };
      const first = await build(80);
      await waitFor(async () => (await bus.readOutput()).length >= 80, 'the first run to publish 80');
      await first.stop({ timeout: 50 });
      await build();
      await waitFor(async () => new Set((await bus.readOutput()).map((b) => (b as Bet).id)).size === N, `all ${N} in the output`, 30_000);
    });
  });
}
