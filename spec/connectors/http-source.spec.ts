import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import net from 'node:net';
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { Network, nodes, type Event } from 'tributary';
import { connectors, type HttpSourceOptions, type ListeningInfo } from 'tributary/connectors';
import { captureLogger, waitFor } from './helpers';

/** Starts a network: http_source → collecting sink (whose behaviour a test can change). */
async function startIngest(
  opts: Partial<HttpSourceOptions> = {},
  handle: (p: unknown) => unknown = () => undefined,
  scheduler?: SchedulerLike,
) {
  const seen: unknown[] = [];
  const logger = captureLogger();
  let resolveListening!: (i: ListeningInfo) => void;
  const listening = new Promise<ListeningInfo>((r) => (resolveListening = r));
  const network = new Network({ logger, ...(scheduler ? { scheduler } : {}) });
  network.add('in', connectors.httpSource({ port: 0, onListening: resolveListening, ...opts }));
  network.add(
    'out',
    nodes.sink({
      fn: async (p) => {
        seen.push(p);
        return handle(p);
      },
    }),
  );
  network.link('in', 'out');
  await network.start();
  const info = await listening;
  const base = `http://127.0.0.1:${info.port}`;
  return { network, seen, logger, info, base };
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, body: (await res.json()) as any };
}

/** A raw keep-alive connection, to send a request in pieces or after the server stopped listening. */
function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  let all = '';
  let waiter: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += d.toString('utf8');
    all += d.toString('utf8');
    waiter?.();
  });
  socket.on('error', () => undefined); // a reset by the server shows as `closed`
  const connected = new Promise<void>((r) => socket.once('connect', () => r()));
  /** Resolves with everything the server sent once the socket closed. */
  const closed = new Promise<string>((r) => socket.once('close', () => r(all)));
  return {
    connected,
    closed,
    write: (s: string | Uint8Array) => socket.write(s),
    /** Waits for one full response (headers and a JSON body ending in a newline). */
    async response(): Promise<{ status: number; text: string }> {
      while (!/\r\n\r\n[\s\S]*\n$/.test(buffer)) await new Promise<void>((r) => (waiter = r));
      const text = buffer;
      buffer = '';
      return { status: Number(text.split(' ')[1]), text };
    },
    close: () => socket.destroy(),
  };
}

describe('http_source against real HTTP requests', () => {
  let running: Network | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('turns a JSON object into one event, an array into one per element, and answers 202', async () => {
    const s = await startIngest();
    running = s.network;
    expect(await post(`${s.base}/events`, '{"stake":5}')).toEqual({ status: 202, body: { accepted: 1 } });
    expect(await post(`${s.base}/events`, '[{"stake":1},{"stake":2}]')).toEqual({ status: 202, body: { accepted: 2 } });
    await running.stop();
    expect(s.seen).toEqual([{ stake: 5 }, { stake: 1 }, { stake: 2 }]);
  });

  it('turns an NDJSON body into one event per line (by content type or format option)', async () => {
    const s = await startIngest();
    running = s.network;
    const r = await post(`${s.base}/events`, '{"a":1}\n\n{"a":2}\n{"a":3}', { 'content-type': 'application/x-ndjson' });
    expect(r).toEqual({ status: 202, body: { accepted: 3 } });
    await running.stop();
    expect(s.seen).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
  });

  it("reads compressed bodies (gzip, deflate, br), declared charsets, and JSON sent as text/plain or curl's form type", async () => {
    const s = await startIngest();
    running = s.network;
    const send = async (body: Uint8Array, headers: Record<string, string>) => {
      const res = await fetch(`${s.base}/events`, { method: 'POST', body, headers });
      return { status: res.status, body: await res.json() };
    };
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    expect(await send(gzipSync(json({ n: 1 })), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toEqual({
      status: 202,
      body: { accepted: 1 },
    });
    expect((await send(deflateSync(json({ n: 2 })), { 'content-type': 'application/json', 'content-encoding': 'deflate' })).status).toBe(
      202,
    );
    expect(
      (
        await send(brotliCompressSync(Buffer.from('{"n":3}\n{"n":4}\n')), {
          'content-type': 'application/x-ndjson',
          'content-encoding': 'br',
        })
      ).body,
    ).toEqual({ accepted: 2 });
    expect((await send(Buffer.from('{"n":"é5"}', 'latin1'), { 'content-type': 'application/json; charset=ISO-8859-1' })).status).toBe(202);
    expect((await send(Buffer.from('{"n":"6"}', 'utf16le'), { 'content-type': 'application/json; charset="utf-16le"' })).status).toBe(202);
    expect((await send(json({ n: 7 }), { 'content-type': 'text/plain;charset=UTF-8' })).status).toBe(202);
    expect((await send(json({ n: 8 }), { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(202);
    expect((await send(json({ n: 9 }), { 'content-type': 'application/vnd.bets+json' })).status).toBe(202);
    await running.stop();
    expect(s.seen).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 'é5' }, { n: '6' }, { n: 7 }, { n: 8 }, { n: 9 }]);
  });

  it('answers 400 with the reason for malformed JSON or NDJSON and emits nothing from that request', async () => {
    const s = await startIngest({ format: 'ndjson' });
    running = s.network;
    const bad = await post(`${s.base}/events`, '{"a":1}\n{"a":');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/malformed NDJSON at line 2/);
    const empty = await post(`${s.base}/events`, '\n');
    expect(empty).toEqual({ status: 400, body: { error: 'empty body: expected NDJSON lines' } });
    await running.stop();
    expect(s.seen).toEqual([]);
  });

  it('answers 400 for a JSON body that does not parse', async () => {
    const s = await startIngest();
    running = s.network;
    const bad = await post(`${s.base}/events`, '{"stake": 5');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^malformed JSON/);
  });

  it('answers 400 for a body over maxBodySize, declared or streamed', async () => {
    const s = await startIngest({ maxBodySize: 64 });
    running = s.network;
    const big = JSON.stringify({ pad: 'x'.repeat(100) });
    const declared = await post(`${s.base}/events`, big);
    expect(declared).toEqual({ status: 400, body: { error: `body of ${big.length} bytes is over the limit of 64 bytes` } });
    // Chunked, so the size is only known while reading.
    const c = rawConnection(s.info.port);
    await c.connected;
    c.write(`POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    c.write(`${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`);
    const r = await c.response();
    c.close();
    expect(r.status).toBe(400);
    expect(r.text).toContain('body is over the limit of 64 bytes');
    expect(s.seen).toEqual([]);
  });

  it('answers 401 without the right bearer token and 202 with it', async () => {
    const s = await startIngest({ token: 's3cret' });
    running = s.network;
    expect((await post(`${s.base}/events`, '1')).status).toBe(401);
    expect((await post(`${s.base}/events`, '1', { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${s.base}/events`, '2', { authorization: 'Bearer s3cret' })).status).toBe(202);
    await running.stop();
    expect(s.seen).toEqual([2]);
  });

  it('serves health, 404 for other paths and 405 for other methods', async () => {
    const s = await startIngest({ path: '/bets' });
    running = s.network;
    const health = await fetch(`${s.base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect((await fetch(`${s.base}/events`, { method: 'POST', body: '1' })).status).toBe(404);
    expect((await fetch(`${s.base}/bets`)).status).toBe(405);
  });

  it("with respond: 'acked' answers 200 only after the sink acked, and 500 when it failed", async () => {
    const s = await startIngest({ respond: 'acked' }, (p) => {
      if (p === 'bad') throw new Error('sink refused bad');
    });
    running = s.network;
    expect(await post(`${s.base}/events`, '["a","b"]')).toEqual({ status: 200, body: { accepted: 2, acked: 2 } });
    const failed = await post(`${s.base}/events`, '["c","bad"]');
    expect(failed.status).toBe(500);
    expect(failed.body.error).toContain('sink refused bad');
    expect(s.seen).toEqual(['a', 'b', 'c', 'bad']);
  });

  it('answers 503 with Retry-After past maxInFlight, and accepts again once events settled', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await startIngest({ maxInFlight: 3 }, (p) => (p === 'hold' ? gate : undefined));
    running = s.network;
    expect((await post(`${s.base}/events`, '["hold","hold"]')).status).toBe(202);
    // One slot is left: a request of two events would pass the cap, so it is refused whole.
    const busy = await fetch(`${s.base}/events`, { method: 'POST', body: '["more","more"]' });
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect(((await busy.json()) as { error: string }).error).toBe('busy: 2 events in flight, 2 more would pass maxInFlight 3');
    // More events in one request than the cap could never be taken.
    expect((await post(`${s.base}/events`, '[1,2,3,4]')).status).toBe(413);
    expect((await post(`${s.base}/events`, '"hold"')).status).toBe(202);
    const full = await fetch(`${s.base}/events`, { method: 'POST', body: '"more"' });
    expect(full.status).toBe(503);
    expect(((await full.json()) as { error: string }).error).toBe('busy: 3 events in flight');
    release();
    await waitUntil(async () => ((await fetch(`${s.base}/health`).then((r) => r.json())) as { inFlight: number }).inFlight === 0);
    expect((await post(`${s.base}/events`, '"more"')).status).toBe(202);
  });

  it('answers 503 while the network is stopping, then closes the server', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await startIngest({ respond: 'acked' }, (p) => (p === 'slow' ? gate : undefined));
    running = s.network;
    // One request is waiting for its ack; one connection idles; one request is half sent.
    const slow = post(`${s.base}/events`, '"slow"');
    await waitUntil(() => s.seen.includes('slow'));
    const idle = rawConnection(s.info.port);
    const half = rawConnection(s.info.port);
    await Promise.all([idle.connected, half.connected]);
    half.write('POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n"la');
    await waitUntil(async () => (await fetch(`${s.base}/health`)).ok); // the half request is being read
    const stopping = running.stop();
    half.write('te one"');
    expect((await half.response()).status).toBe(503);
    idle.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    const h = await idle.response();
    expect(h.status).toBe(503);
    expect(h.text).toContain('"status":"stopping"');
    release();
    expect(await slow).toEqual({ status: 200, body: { accepted: 1, acked: 1 } });
    await stopping;
    idle.close();
    half.close();
    await expect(fetch(`${s.base}/health`)).rejects.toThrow();
    expect(s.seen).toEqual(['slow']);
  });

  it('during the drain, a connection opened after stop() gets 503 with Connection: close (also on the health path)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await startIngest({ respond: 'acked' }, (p) => (p === 'slow' ? gate : undefined));
    running = s.network;
    const slow = post(`${s.base}/events`, '"slow"');
    await waitUntil(() => s.seen.includes('slow'));
    const stopping = running.stop();
    const late = rawConnection(s.info.port);
    await late.connected;
    late.write('POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n"new"');
    const r = await late.response();
    expect(r.status).toBe(503);
    expect(r.text.toLowerCase()).toContain('connection: close');
    expect(r.text).toContain('the network is stopping');
    late.close();
    const health = await fetch(`${s.base}/health`);
    expect(health.status).toBe(503);
    expect(health.headers.get('connection')).toBe('close');
    release();
    expect(await slow).toEqual({ status: 200, body: { accepted: 1, acked: 1 } });
    await stopping;
    await expect(fetch(`${s.base}/health`)).rejects.toThrow();
    expect(s.seen).toEqual(['slow']);
  });

  it('closes the server on stop with nothing in flight', async () => {
    const s = await startIngest();
    await s.network.stop();
    await expect(fetch(`${s.base}/health`)).rejects.toThrow();
  });

  it('frees the slots of clients trickling their bodies after bodyTimeout (408, socket closed), so other clients get through', async () => {
    // The body timer comes from the network's scheduler: this one holds it until fire().
    const clock = heldScheduler(7000);
    const s = await startIngest({ maxInFlight: 2, bodyTimeout: '7s' }, undefined, clock);
    running = s.network;
    const tricklers = [rawConnection(s.info.port), rawConnection(s.info.port)];
    for (const t of tricklers) {
      await t.connected;
      t.write('POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{');
    }
    await waitUntil(async () => (await health(s.base)).reading === 2);
    // Both slots are held by bodies being read: a normal client is turned away...
    const busy = await post(`${s.base}/events`, '"normal"');
    expect(busy).toEqual({ status: 503, body: { error: 'busy: 0 events in flight, 2 request bodies being read' } });
    for (const t of tricklers) t.write('"');
    expect(clock.held()).toBe(2);
    // ...until the body timeout answers the tricklers 408 and closes their sockets.
    clock.fire();
    for (const t of tricklers) {
      const r = await t.response();
      expect(r.status).toBe(408);
      expect(r.text).toContain('body not received within 7000ms (bodyTimeout)');
      await t.closed;
    }
    expect(await health(s.base)).toMatchObject({ inFlight: 0, reading: 0 });
    expect(await post(`${s.base}/events`, '"normal"')).toEqual({ status: 202, body: { accepted: 1 } });
    await running.stop();
    expect(s.seen).toEqual(['normal']);
  });

  it('with a short real bodyTimeout, clients trickling a byte at a time get 408 or a closed socket and a normal client gets 202', async () => {
    const s = await startIngest({ maxInFlight: 2, bodyTimeout: '200ms' });
    running = s.network;
    const tricklers = [trickle(s.info.port), trickle(s.info.port)];
    const outcomes = await Promise.all(tricklers.map((t) => bounded(t.closed, 'a trickling client to be cut off')));
    for (const text of outcomes) {
      // Either the 408 arrived before the close, or the socket was closed (reset) outright.
      if (text !== '') expect(text).toMatch(/^HTTP\/1\.1 408 [\s\S]*bodyTimeout/);
    }
    expect(await health(s.base)).toMatchObject({ inFlight: 0, reading: 0 });
    expect(await post(`${s.base}/events`, '"normal"')).toEqual({ status: 202, body: { accepted: 1 } });
    await running.stop();
    expect(s.seen).toEqual(['normal']);
  });

  it('closes a connection whose headers trickle past headersTimeout (408) while other clients are served', async () => {
    const s = await startIngest({ headersTimeout: '200ms' });
    running = s.network;
    const slow = trickle(s.info.port, 'POST /events HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    expect(await post(`${s.base}/events`, '"normal"')).toEqual({ status: 202, body: { accepted: 1 } });
    const text = await bounded(slow.closed, 'the slow-headers client to be cut off');
    if (text !== '') expect(text).toMatch(/^HTTP\/1\.1 408 /);
    await running.stop();
    expect(s.seen).toEqual(['normal']);
  });

  it('answers 400 naming the limit for an event nested deeper than maxDepth (default 64), and emits nothing from that request', async () => {
    const s = await startIngest();
    running = s.network;
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(await post(`${s.base}/events`, `{"a":${nest(64)}}`)).toEqual({
      status: 400,
      body: { error: 'the JSON body is nested deeper than the limit of 64 levels (maxDepth)' },
    });
    expect(await post(`${s.base}/events`, `[1, ${nest(65)}]`)).toEqual({
      status: 400,
      body: { error: 'element 2 is nested deeper than the limit of 64 levels (maxDepth)' },
    });
    expect(await post(`${s.base}/events`, `{"a":${nest(63)}}`)).toEqual({ status: 202, body: { accepted: 1 } });
    await running.stop();
    expect(s.seen).toHaveLength(1);

    const small = await startIngest({ maxDepth: 2, format: 'ndjson' });
    running = small.network;
    expect(await post(`${small.base}/events`, '{"a":[1]}\n{"a":[{"b":1}]}\n')).toEqual({
      status: 400,
      body: { error: 'NDJSON line 2 is nested deeper than the limit of 2 levels (maxDepth)' },
    });
    await running.stop();
    expect(small.seen).toEqual([]);
  });

  it('answers 400 "body is not valid UTF-8" for invalid UTF-8, and decodes a character split across chunks', async () => {
    const s = await startIngest();
    running = s.network;
    const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const res = await fetch(`${s.base}/events`, { method: 'POST', body: bad, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not valid UTF-8' });
    const ndjson = await fetch(`${s.base}/events`, {
      method: 'POST',
      body: Buffer.concat([Buffer.from('"ok"\n"'), Buffer.from([0xff]), Buffer.from('"\n')]),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(ndjson.status).toBe(400);
    expect(await ndjson.json()).toEqual({ error: 'body is not valid UTF-8' });
    // "é" is two bytes; sent in two chunks, it still decodes.
    const body = Buffer.from('{"name":"é"}');
    const c = rawConnection(s.info.port);
    await c.connected;
    c.write(`POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.write(body.subarray(0, 10));
    await waitUntil(async () => (await health(s.base)).reading === 1);
    c.write(body.subarray(10));
    expect((await c.response()).status).toBe(202);
    c.close();
    await running.stop();
    expect(s.seen).toEqual([{ name: 'é' }]);
  });

  it('rejects bad options naming the option', () => {
    expect(() => connectors.httpSource({ path: 'events' })).toThrow("option 'path' must start with '/'");
    expect(() => connectors.httpSource({ format: 'xml' as never })).toThrow("option 'format' must be one of");
    expect(() => connectors.httpSource({ port: -1 })).toThrow("option 'port' must be at least 0");
    expect(() => connectors.httpSource({ path: '/h', healthPath: '/h' })).toThrow('must differ');
    expect(() => connectors.httpSource({ bodyTimeout: 0 })).toThrow("option 'bodyTimeout'");
    expect(() => connectors.httpSource({ headersTimeout: 'soon' })).toThrow("option 'headersTimeout'");
    expect(() => connectors.httpSource({ maxDepth: 0 })).toThrow("option 'maxDepth' must be at least 1");
  });

  it('reports a port in use with the address and keeps retrying until stopped', async () => {
    const first = await startIngest();
    running = first.network;
    const logger = captureLogger();
    const second = new Network({ logger });
    second.add('in', connectors.httpSource({ port: first.info.port }));
    second.add('out', nodes.discarder());
    second.link('in', 'out');
    await second.start();
    await waitUntil(() => logger.messages.length > 0);
    expect(logger.messages[0]).toContain(`node 'in': cannot connect to http://127.0.0.1:${first.info.port} (listen)`);
    expect(logger.messages[0]).toContain('EADDRINUSE');
    await second.stop();
  });
});

/** Waits for a condition of the local server or network (bounded). */
function waitUntil(check: () => boolean | Promise<boolean>): Promise<void> {
  return waitFor(check, 'the condition', 10_000);
}

/** The health body of a running source. */
async function health(base: string): Promise<{ status: string; inFlight: number; reading: number }> {
  return (await fetch(`${base}/health`).then((r) => r.json())) as { status: string; inFlight: number; reading: number };
}

/** Waits for a promise a real server settles (a socket closing), with a generous upper bound. */
async function bounded<T>(p: Promise<T>, what: string): Promise<T> {
  let settled = false;
  let value!: T;
  void p.then((v) => {
    settled = true;
    value = v;
  });
  await waitFor(() => settled, what, 10_000);
  return value;
}

/**
 * A hostile client: sends `head` (by default the headers of a 1000-byte JSON body), then one
 * more byte on every timer tick until the server closes the socket.
 */
function trickle(
  port: number,
  head = 'POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n',
) {
  const c = rawConnection(port);
  void c.connected.then(() => c.write(head));
  const tick = setInterval(() => c.write(head.endsWith('\r\n\r\n') ? ' ' : 'a'), 20);
  void c.closed.then(() => clearInterval(tick));
  return c;
}

/**
 * A scheduler like asyncScheduler, except that work asked for after exactly `delay` ms is held
 * until `fire()` runs it: a test decides when that timeout passes.
 */
function heldScheduler(delay: number): SchedulerLike & { held(): number; fire(): void } {
  const held: { work: () => void; sub: Subscription }[] = [];
  return {
    now: () => asyncScheduler.now(),
    held: () => held.filter((h) => !h.sub.closed).length,
    fire() {
      for (const h of held.splice(0)) if (!h.sub.closed) h.work();
    },
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, d = 0, state?: T): Subscription {
      if (d !== delay) return asyncScheduler.schedule(work, d, state);
      // A never-due action stands for the held one, so unsubscribe() cancels it as usual.
      const sub = asyncScheduler.schedule(() => undefined, 2 ** 31 - 1);
      held.push({ work: () => work.call(sub as SchedulerAction<T>, state), sub });
      return sub;
    },
  } as SchedulerLike & { held(): number; fire(): void };
}

// Event type used only for documentation of what the sink sees.
export type _Seen = Event;

describe('http_source port', () => {
  it('a port above 65535 is refused naming the option (it used to retry forever at start)', () => {
    expect(() => connectors.httpSource({ port: 70000 })).toThrow(
      /node kind 'http_source': option 'port' must be at most 65535, got number 70000/,
    );
  });
});
