import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { Network, nodes, errorMessage, type DeadLetter, type Event } from 'tributary';
import { connectors } from 'tributary/connectors';
import { builtinPlugins } from '../../lib/plugins';
import { LuaRuntime } from '../../lib/lua/index';
import { isReplyError } from '../../lib/connectors/redis/connection';
import { busConformance } from './bus-conformance';
import { captureLogger, settlements, tcpProxy, waitFor } from './helpers';

const URL = process.env.TRIBUTARY_REDIS_URL;
const suite = URL ? describe : describe.skip;

/** Fresh key names for one test. */
function freshKeys() {
  const tag = randomUUID().slice(0, 8);
  return { tag, input: `tb:${tag}:in`, output: `tb:${tag}:out`, text: `tb:${tag}:text` };
}

/** The `data` fields of a stream, decoded as JSON, oldest first. */
async function readStream(r: Redis, key: string, field = 'data'): Promise<unknown[]> {
  const entries = await r.xrange(key, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf(field) + 1]) as unknown);
}

/** Entries pending in a group; -1 while the group does not exist yet. */
async function pendingCount(r: Redis, key: string, group: string): Promise<number> {
  try {
    const summary = (await r.xpending(key, group)) as [number, ...unknown[]];
    return Number(summary[0]);
  } catch {
    return -1;
  }
}

suite(`Redis connectors against ${URL ?? '(set TRIBUTARY_REDIS_URL to run)'}`, () => {
  let r: Redis;
  beforeAll(() => {
    r = new Redis(URL!);
  });
  afterAll(async () => {
    await r?.quit();
  });

  busConformance('Redis Streams', () => {
    let k: ReturnType<typeof freshKeys>;
    // claimIdle 0: a restart must get its pending entries back by re-reading its own pending
    // list (same consumer name), not by a take-over after an idle time.
    const common = { group: 'conformance', consumer: 'conformance-1', claimIdle: 0, nackDelay: '50ms', block: '1s' };
    return {
      async setup() {
        k = freshKeys();
        await r.set(k.text, 'not a stream');
      },
      async teardown() {
        await r.del(k.input, k.output, k.text);
      },
      async publish(payloads) {
        const p = r.pipeline();
        for (const x of payloads) p.xadd(k.input, '*', 'data', JSON.stringify(x));
        const results = (await p.exec()) ?? [];
        for (const [err] of results) if (err) throw err;
      },
      source: ({ maxInFlight, url }) =>
        connectors.redisStreamSource({ url: url ?? URL, stream: k.input, ...common, maxInFlight, closeTimeout: '100ms' }),
      sourceKind: ({ maxInFlight }) => ({
        kind: 'redis_stream_source',
        options: { url: URL, stream: k.input, ...common, consumer: 'conformance-child', maxInFlight },
      }),
      port: Number(new globalThis.URL(URL!).port || 6379),
      urlFor: (port) => `redis://127.0.0.1:${port}`,
      sink: (o) => connectors.redisStreamSink({ url: o?.url ?? URL, stream: k.output }),
      // XADD to a key holding a string: Redis answers WRONGTYPE.
      unroutableSink: () => connectors.redisStreamSink({ url: URL, stream: k.text, retries: 0 }),
      unroutableReason: /XADD to stream 'tb:\w+:text' at redis:\/\/\S+: WRONGTYPE/,
      readOutput: () => readStream(r, k.output),
    };
  });

  describe('Redis specifics', () => {
    let k: ReturnType<typeof freshKeys>;
    const nets: Network[] = [];
    const clients: Redis[] = [];
    beforeEach(() => {
      k = freshKeys();
    });
    afterEach(async () => {
      for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
      for (const c of clients.splice(0)) c.disconnect();
      await r.del(k.input, k.output, k.text, `${k.output}:a`, `${k.output}:b`);
    });

    async function run(build: (n: Network) => void, logger = captureLogger()) {
      const n = new Network({ logger, drainTimeout: '5s' });
      build(n);
      nets.push(n);
      await n.start();
      return { net: n, logger };
    }

    it("takes over a dead consumer's pending entries with XAUTOCLAIM once they were idle claimIdle", async () => {
      for (let i = 0; i < 20; i++) await r.xadd(k.input, '*', 'data', JSON.stringify({ id: i }));
      await r.xgroup('CREATE', k.input, 'g', '0');
      // A consumer reads everything and dies before acking.
      const read = await r.xreadgroup('GROUP', 'g', 'dead', 'COUNT', 100, 'STREAMS', k.input, '>');
      expect((read as [string, unknown[]][])[0][1]).toHaveLength(20);
      const seen: number[] = [];
      await run((n) => {
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', claimIdle: '300ms', block: '200ms' }));
        n.add('out', nodes.sink({ fn: (p: { id: number }) => void seen.push(p.id) }));
        n.link('in', 'out');
      });
      await waitFor(() => seen.length >= 20, 'the dead consumer’s 20 entries');
      expect([...new Set(seen)].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      await waitFor(async () => (await pendingCount(r, k.input, 'g')) === 0, 'every entry acked');
      const consumers = (await r.xinfo('CONSUMERS', k.input, 'g')) as unknown[][];
      const dead = consumers.find((c) => c[1] === 'dead')!;
      expect(dead[3]).toBe(0); // pending of 'dead'
    });

    it('after a reconnect, re-reads its own pending list: an entry delivered to it whose reply was lost is processed', async () => {
      const proxy = await tcpProxy(Number(new globalThis.URL(URL!).port || 6379));
      try {
        await r.xadd(k.input, '*', 'data', '{"id":0}');
        const seen: number[] = [];
        await run((n) => {
          // claimIdle 0: no take-over; only the re-read of its own pending list can bring the entry.
          n.add(
            'in',
            connectors.redisStreamSource({
              url: `redis://127.0.0.1:${proxy.port}`,
              stream: k.input,
              group: 'g',
              consumer: 'c1',
              claimIdle: 0,
              block: '200ms',
            }),
          );
          n.add('out', nodes.sink({ fn: (p: { id: number }) => void seen.push(p.id) }));
          n.link('in', 'out');
        });
        await waitFor(() => seen.length === 1, 'the first entry');
        // As if Redis had answered a read of 'c1' whose reply never arrived: the entry is pending
        // for c1 (in one transaction, so the source's own blocked read cannot take it first).
        const [, [, read]] = (await r
          .multi()
          .xadd(k.input, '*', 'data', '{"id":1}')
          .xreadgroup('GROUP', 'g', 'c1', 'COUNT', 10, 'STREAMS', k.input, '>')
          .exec())!;
        expect(JSON.stringify(read)).toContain('{\\"id\\":1}');
        await r.xadd(k.input, '*', 'data', '{"id":2}');
        await waitFor(() => seen.includes(2), 'the entry after it');
        expect(seen).not.toContain(1);
        proxy.drop();
        await waitFor(() => seen.includes(1), 'the lost entry after the reconnect');
        await waitFor(async () => (await pendingCount(r, k.input, 'g')) === 0, 'every entry acked');
      } finally {
        for (const n of nets.splice(0)) await n.stop({ timeout: 100 });
        await proxy.close();
      }
    });

    it('does not take over entries before they were idle claimIdle (another consumer may still be on them)', async () => {
      await r.xadd(k.input, '*', 'data', '{"id":1}');
      await r.xgroup('CREATE', k.input, 'g', '0');
      await r.xreadgroup('GROUP', 'g', 'busy', 'COUNT', 10, 'STREAMS', k.input, '>');
      const seen: unknown[] = [];
      await run((n) => {
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', claimIdle: '1h', block: '100ms' }));
        n.add('out', nodes.sink({ fn: (p) => void seen.push(p) }));
        n.link('in', 'out');
      });
      // A new entry goes through: the source is reading; the busy consumer's entry stays with it.
      await r.xadd(k.input, '*', 'data', '{"id":2}');
      await waitFor(() => seen.length >= 1, 'the new entry');
      expect(seen).toEqual([{ id: 2 }]);
      const consumers = (await r.xinfo('CONSUMERS', k.input, 'g')) as unknown[][];
      expect(consumers.find((c) => c[1] === 'busy')![3]).toBe(1);
    });

    it('a nacked entry stays pending and is claimed back after nackDelay: XACK only after success', async () => {
      await r.xadd(k.input, '*', 'data', '{"id":7}');
      const attempts: number[] = [];
      let pendingDuringRetry: number | undefined;
      await run((n) => {
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', claimIdle: 0, nackDelay: '100ms', block: '5s' }));
        n.add(
          'out',
          nodes.sink({
            fn: async (p: { id: number }) => {
              attempts.push(p.id);
              if (attempts.length === 1) throw new Error('first try fails');
              pendingDuringRetry = await pendingCount(r, k.input, 'g');
            },
          }),
        );
        n.link('in', 'out');
      });
      // block 5s: the retry arrives only if the reader is woken (CLIENT UNBLOCK) when its delay passes.
      await waitFor(() => attempts.length >= 2 && pendingDuringRetry !== undefined, 'the retry after the nack', 4000);
      expect(attempts.slice(0, 2)).toEqual([7, 7]);
      expect(pendingDuringRetry).toBe(1);
      await waitFor(async () => (await pendingCount(r, k.input, 'g')) === 0, 'the ack of the retry');
    });

    it('turns entries that are not JSON or lack the payload field into error events naming stream and id, and acks them', async () => {
      const good1 = await r.xadd(k.input, '*', 'data', '{"ok":1}');
      const bad = await r.xadd(k.input, '*', 'data', 'not json');
      const missing = await r.xadd(k.input, '*', 'other', 'x');
      await r.xadd(k.input, '*', 'data', '{"ok":2}');
      const good: unknown[] = [];
      const errors: Event<DeadLetter>[] = [];
      await run((n) => {
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', block: '200ms' }));
        n.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
        n.add('bad', nodes.handler({ fn: (e) => void errors.push(e as Event<DeadLetter>) }));
        n.link('in', 'good');
        n.routeErrors('in', 'bad');
      });
      await waitFor(() => good.length === 2 && errors.length === 2, 'four entries');
      expect(good).toEqual([{ ok: 1 }, { ok: 2 }]);
      expect(errors[0].payload.error).toContain(`cannot decode entry ${bad} of stream '${k.input}'`);
      expect(errors[0].payload.payload).toBe('not json');
      expect(errors[1].payload.error).toContain(`entry ${missing} of stream '${k.input}' has no field 'data'`);
      expect(errors[1].meta.headers).toMatchObject({ other: 'x', 'redis-stream': k.input, 'redis-id': missing });
      expect(good1).toBeTruthy();
      await waitFor(async () => (await pendingCount(r, k.input, 'g')) === 0, 'all four acked');
    });

    it('acks a bad entry even when its error event is nacked: no redelivery loop', async () => {
      await r.xadd(k.input, '*', 'data', 'not json');
      const logger = captureLogger();
      await run((n) => {
        // No error route: the sink nacks the error event. nackDelay 0 would retry at once if it were kept pending.
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', nackDelay: 0, block: '200ms' }));
        n.add('out', nodes.sink({ fn: () => undefined }));
        n.link('in', 'out');
      }, logger);
      await waitFor(async () => (await pendingCount(r, k.input, 'g')) === 0 && logger.messages.length > 0, 'the ack');
      const [group] = (await r.xinfo('GROUPS', k.input)) as unknown[][];
      expect(group[group.indexOf('entries-read') + 1]).toBe(1);
      expect(logger.messages.filter((m) => m.includes('cannot be decoded'))).toHaveLength(1);
    });

    it('entry fields become headers (with redis-stream and redis-id), and the sink writes headers back as fields', async () => {
      const id = await r.xadd(k.input, '*', 'data', '{"customer":"a"}', 'source', 'web');
      await r.xadd(k.input, '*', 'data', '{"customer":"b"}', 'source', 'app');
      const headers: Record<string, string>[] = [];
      await run((n) => {
        n.add('in', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', block: '200ms' }));
        n.add('tap', nodes.handler({ fn: (e: Event) => void headers.push({ ...e.meta.headers }) }));
        n.add('out', connectors.redisStreamSink({ url: URL, streamFn: (p: { customer: string }) => `${k.output}:${p.customer}` }));
        n.fanout('in', 'tap', 'out');
      });
      await waitFor(async () => (await r.xlen(`${k.output}:b`)) === 1, 'both entries copied');
      expect(headers[0]).toEqual({ source: 'web', 'redis-stream': k.input, 'redis-id': id });
      const [[, fields]] = await r.xrange(`${k.output}:a`, '-', '+');
      expect(fields).toEqual(['data', '{"customer":"a"}', 'source', 'web']);
      expect(await readStream(r, `${k.output}:b`)).toEqual([{ customer: 'b' }]);
    });

    it('sink: MAXLEN ~ keeps the stream near maxLen; without it every entry stays', async () => {
      const N = 1000;
      const write = async (stream: string, maxLen?: number) => {
        const settled = settlements();
        const n = new Network({ logger: captureLogger() });
        n.add('gen', nodes.from({ items: Array.from({ length: N }, (_, i) => i), onSettle: settled.onSettle }));
        n.add('out', connectors.redisStreamSink({ url: URL, stream, ...(maxLen ? { maxLen } : {}) }));
        n.link('gen', 'out');
        await n.start();
        const report = await n.done();
        expect(report.stats.out.acked).toBe(N);
        expect(settled.acked()).toHaveLength(N);
      };
      await write(k.output, 10);
      await write(k.input);
      expect(await r.xlen(k.input)).toBe(N);
      const trimmed = await r.xlen(k.output);
      // Approximate trimming removes whole nodes (100 entries by default): at least maxLen stay, far fewer than N.
      expect(trimmed).toBeGreaterThanOrEqual(10);
      expect(trimmed).toBeLessThan(200);
      expect((await readStream(r, k.output)).at(-1)).toBe(N - 1);
    });

    it('sink: a streamFn that returns no key nacks that event with the reason, the others are written', async () => {
      const settled = settlements();
      const n = new Network({ logger: captureLogger() });
      n.add('gen', nodes.from({ items: [{ to: k.output }, { to: '' }], onSettle: settled.onSettle }));
      n.add('out', connectors.redisStreamSink({ url: URL, streamFn: (p: { to: string }) => p.to }));
      n.link('gen', 'out');
      await n.start();
      await n.done();
      expect(settled.acked()).toEqual([{ to: k.output }]);
      expect(errorMessage(settled.nacked()[0].reason)).toContain('streamFn returned "", not a stream key');
    });

    it('pub/sub: channels and patterns in, PUBLISH out, with the channel and pattern as headers', async () => {
      const got: { payload: unknown; headers: Record<string, string> }[] = [];
      await run((n) => {
        n.add('in', connectors.redisPubsubSource({ url: URL, channels: [`${k.tag}.ticks`], patterns: [`${k.tag}.prices.*`] }));
        n.add('out', nodes.handler({ fn: (e) => void got.push({ payload: e.payload, headers: { ...e.meta.headers } }) }));
        n.link('in', 'out');
      });
      await waitFor(async () => {
        const [, subs] = (await r.pubsub('NUMSUB', `${k.tag}.ticks`)) as [string, number];
        return Number(subs) === 1 && Number(await r.pubsub('NUMPAT')) >= 1;
      }, 'the subscriptions');
      const settled = settlements();
      const writer = new Network({ logger: captureLogger() });
      writer.add(
        'gen',
        nodes.from({
          items: [
            { c: 'ticks', v: 1 },
            { c: 'prices.eur', v: 2 },
            { c: 'other', v: 3 },
          ],
          onSettle: settled.onSettle,
        }),
      );
      writer.add('out', connectors.redisPubsubSink({ url: URL, channelFn: (p: { c: string }) => `${k.tag}.${p.c}` }));
      writer.link('gen', 'out');
      await writer.start();
      await writer.done();
      // At most once: acked once Redis took it, listeners or not (nobody listens on 'other').
      expect(settled.acked()).toHaveLength(3);
      await waitFor(() => got.length === 2, 'two messages');
      expect(got).toEqual([
        { payload: { c: 'ticks', v: 1 }, headers: { 'redis-channel': `${k.tag}.ticks` } },
        { payload: { c: 'prices.eur', v: 2 }, headers: { 'redis-channel': `${k.tag}.prices.eur`, 'redis-pattern': `${k.tag}.prices.*` } },
      ]);
    });

    it('pub/sub source: a message that is not JSON becomes an error event, the next one goes through', async () => {
      const good: unknown[] = [];
      const bad: Event<DeadLetter>[] = [];
      await run((n) => {
        n.add('in', connectors.redisPubsubSource({ url: URL, channels: [`${k.tag}.raw`] }));
        n.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
        n.add('bad', nodes.handler({ fn: (e) => void bad.push(e as Event<DeadLetter>) }));
        n.link('in', 'good');
        n.routeErrors('in', 'bad');
      });
      await waitFor(async () => Number(((await r.pubsub('NUMSUB', `${k.tag}.raw`)) as [string, number])[1]) === 1, 'the subscription');
      await r.publish(`${k.tag}.raw`, 'oops');
      await r.publish(`${k.tag}.raw`, '{"ok":1}');
      await waitFor(() => good.length === 1 && bad.length === 1, 'both messages');
      expect(bad[0].payload.error).toContain(`cannot decode message on channel '${k.tag}.raw'`);
      expect(good).toEqual([{ ok: 1 }]);
    });

    it('a source on a key that is not a stream logs the stream, group and reason, retries, and stops cleanly', async () => {
      await r.set(k.text, 'x');
      const { net: n, logger } = await run((nn) => {
        nn.add('in', connectors.redisStreamSource({ url: URL, stream: k.text, group: 'g' }));
        nn.add('out', nodes.discarder());
        nn.link('in', 'out');
      });
      await waitFor(() => logger.messages.length >= 2, 'two attempts', 5000);
      expect(logger.messages[0]).toMatch(
        new RegExp(`error: node 'in': stream '${k.text}' group 'g' at redis://\\S+: WRONGTYPE.*; retrying in 250ms`),
      );
      expect(logger.messages[1]).toContain('retrying in 500ms');
      const report = await n.stop({ timeout: '2s' });
      expect(report.timedOut).toBe(false);
    });

    it('a clean stop removes a generated consumer with nothing pending; a named one stays', async () => {
      await r.xadd(k.input, '*', 'data', '1');
      const seen: unknown[] = [];
      const { net: n } = await run((nn) => {
        nn.add('gen', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'g', block: '100ms' }));
        nn.add('named', connectors.redisStreamSource({ url: URL, stream: k.input, group: 'h', consumer: 'kept', block: '100ms' }));
        nn.add('out', nodes.sink({ fn: (p) => void seen.push(p) }));
        nn.link('gen', 'out').link('named', 'out');
      });
      await waitFor(() => seen.length === 2, 'the entry through both groups');
      const report = await n.stop();
      expect(report.timedOut).toBe(false);
      // The source's clean-up (acks, then the consumer removal) runs on after the network stopped.
      await waitFor(async () => ((await r.xinfo('CONSUMERS', k.input, 'g')) as unknown[]).length === 0, 'the generated consumer removed');
      const kept = (await r.xinfo('CONSUMERS', k.input, 'h')) as unknown[][];
      expect(kept.map((c) => c[1])).toEqual(['kept']);
    });

    it('a Lua script builds redis_stream_source → redis_stream_sink and it runs', async () => {
      for (let i = 0; i < 5; i++) await r.xadd(k.input, '*', 'data', JSON.stringify({ id: i }));
      const n = new Network({ plugins: builtinPlugins(), logger: captureLogger() });
      const runtime = new LuaRuntime(n);
      try {
        runtime.runString(`
          local tb = require('tributary')
          tb.create_redis_stream_source("in", ${JSON.stringify(k.input)}, "lua", { url = ${JSON.stringify(URL)}, block = "200ms" })
          tb.create_redis_stream_sink("out", ${JSON.stringify(k.output)}, { url = ${JSON.stringify(URL)}, maxLen = 1000 })
          tb.link("in", "out")
        `);
        nets.push(n);
        await n.start();
        await waitFor(async () => (await r.xlen(k.output)) === 5, 'five entries copied');
        expect(await readStream(r, k.output)).toEqual([0, 1, 2, 3, 4].map((id) => ({ id })));
        await waitFor(async () => (await pendingCount(r, k.input, 'lua')) === 0, 'the acks');
      } finally {
        runtime.close();
      }
    });
  });
});

/**
 * A server that speaks just enough RESP to fail: every command is answered with an error that
 * quotes the command back (as a careless server or proxy might), AUTH included.
 */
async function echoingFailServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => s.write(`-ERR refused: ${d.toString('utf8').replace(/\r\n/g, ' ')}\r\n`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Redis connectors without a server', () => {
  it('reports the address it cannot reach, retries with back-off, and stops cleanly', async () => {
    const logger = captureLogger();
    const n = new Network({ logger });
    n.add('in', connectors.redisStreamSource({ url: 'redis://127.0.0.1:1', stream: 's' }));
    n.add('out', nodes.discarder());
    n.link('in', 'out');
    await n.start();
    await waitFor(() => logger.messages.filter((m) => m.includes('cannot connect')).length >= 4, 'attempts', 10_000);
    const attempts = logger.messages.filter((m) => m.includes("node 'in'") && m.includes('cannot connect'));
    expect(attempts[0]).toMatch(/node 'in': cannot connect to Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*; retrying in 250ms/);
    // Two connections (reader and acks) back off alike.
    expect(attempts.some((m) => m.includes('retrying in 500ms'))).toBe(true);
    const report = await n.stop({ timeout: '2s' });
    expect(report.timedOut).toBe(false);
  });

  it('never shows a password (option or URL, plain or encoded) in a log line, a nack reason or the console', async () => {
    const server = await echoingFailServer();
    const consoleLines: string[] = [];
    const spies = (['log', 'warn', 'error', 'info'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void consoleLines.push(args.map(String).join(' '))),
    );
    try {
      const logger = captureLogger();
      const settled = settlements();
      const n = new Network({ logger });
      const urlWithSecret = `redis://app:s3cr%40t-url@127.0.0.1:${server.port}`;
      const withOption = { url: `redis://127.0.0.1:${server.port}`, username: 'app', password: 'hunter2-option' };
      n.add('in', connectors.redisStreamSource({ url: urlWithSecret, stream: 's' }));
      n.add('in2', connectors.redisPubsubSource({ ...withOption, channels: ['c'] }));
      n.add('out', nodes.discarder());
      n.link('in', 'out');
      n.link('in2', 'out');
      n.add('gen', nodes.from({ items: [1], onSettle: settled.onSettle }));
      n.add('pub', connectors.redisStreamSink({ ...withOption, stream: 's', retries: 0 }));
      n.link('gen', 'pub');
      n.add('gen2', nodes.from({ items: [2], onSettle: settled.onSettle }));
      n.add('pub2', connectors.redisPubsubSink({ url: urlWithSecret, channel: 'c', retries: 0 }));
      n.link('gen2', 'pub2');
      await n.start();
      await waitFor(
        () =>
          settled.list.length === 2 &&
          ['in', 'in2'].every((name) => logger.messages.filter((m) => m.includes(`node '${name}'`)).length >= 2),
        'failures from every node',
        10_000,
      );
      await n.stop({ timeout: '1s' });
      const everything = [
        ...logger.messages,
        ...settled.nacked().map((x) => errorMessage(x.reason)),
        ...consoleLines,
        JSON.stringify(n.stats()),
      ].join('\n');
      // The server did quote the commands back: proof the redaction had something to remove.
      expect(everything).toContain('auth $3 app');
      expect(everything).toContain('<redacted>');
      expect(everything).toContain(`redis://app:***@127.0.0.1:${server.port}`);
      for (const secret of ['hunter2-option', 's3cr@t-url', 's3cr%40t-url', 's3cr']) expect(everything).not.toContain(secret);
    } finally {
      for (const s of spies) s.mockRestore();
      await server.close();
    }
  }, 20_000);

  it('tls: true (and a rediss:// URL) opens the connection with a TLS handshake', async () => {
    const first: number[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('data', (d) => first.push(d[0]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const n = new Network({ logger: captureLogger() });
    n.add('a', connectors.redisPubsubSource({ url: `redis://127.0.0.1:${port}`, tls: true, channels: ['c'] }));
    n.add('b', connectors.redisPubsubSource({ url: `rediss://127.0.0.1:${port}`, channels: ['c'] }));
    n.add('out', nodes.discarder());
    n.link('a', 'out').link('b', 'out');
    try {
      await n.start();
      await waitFor(() => first.length === 2, 'two connections');
      // 0x16: a TLS handshake record (a plain RESP command starts with '*').
      expect(first).toEqual([0x16, 0x16]);
    } finally {
      await n.stop({ timeout: '1s' });
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('a reply error is final unless Redis says "not now" (LOADING, BUSY, TRYAGAIN …)', () => {
    const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
    expect(isReplyError(reply('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(true);
    expect(isReplyError(reply('NOGROUP No such key'))).toBe(true);
    expect(isReplyError(reply('LOADING Redis is loading the dataset in memory'))).toBe(false);
    expect(isReplyError(reply('BUSY Redis is busy running a script'))).toBe(false);
    expect(isReplyError(new Error('Connection is closed.'))).toBe(false);
  });

  it('validates options with errors naming them', () => {
    expect(() => connectors.redisStreamSource({} as never)).toThrow("node kind 'redis_stream_source': option 'stream' is required");
    expect(() => connectors.redisStreamSource({ stream: 's', start: 'yesterday' })).toThrow(
      'option \'start\' must be "0", "$" or an entry id',
    );
    expect(() => connectors.redisStreamSource({ stream: 's', maxInFlight: 0 })).toThrow("option 'maxInFlight' must be at least 1");
    expect(() => connectors.redisStreamSource({ stream: 's', group: ' ' })).toThrow("option 'group' must not be empty");
    expect(() => connectors.redisStreamSink({})).toThrow("give option 'stream' or 'streamFn'");
    expect(() => connectors.redisStreamSink({ stream: 's', maxLen: 0 })).toThrow("option 'maxLen' must be at least 1");
    expect(() => connectors.redisPubsubSource({})).toThrow("give option 'channels' or 'patterns'");
    expect(() => connectors.redisPubsubSource({ channels: [''] })).toThrow("option 'channels' must hold non-empty strings");
    expect(() => connectors.redisPubsubSink({ channel: 'c', codec: 'xml' as never })).toThrow("option 'codec' must be one of");
  });

  it('building Redis nodes does not load ioredis; starting one does', () => {
    const root = path.join(__dirname, '..', '..');
    const script = `
      const { connectors } = require('./lib/connectors/index');
      connectors.redisStreamSource({ stream: 's' });
      connectors.redisStreamSink({ stream: 's' });
      connectors.redisPubsubSource({ channels: ['c'] });
      connectors.redisPubsubSink({ channel: 'c' });
      const loaded = Object.keys(require.cache).some((f) => f.includes('/node_modules/ioredis/'));
      require('./lib/connectors/redis/connection').redisModule();
      const after = Object.keys(require.cache).some((f) => f.includes('/node_modules/ioredis/'));
      process.stdout.write(JSON.stringify({ loaded, after }));`;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ loaded: false, after: true });
  }, 30_000);
});
