import net from 'node:net';
import { Network, nodes, type Event } from 'tributary';
import { connectors, type HttpSourceOptions, type ListeningInfo } from 'tributary/connectors';
import { captureLogger, waitFor } from './helpers';

/** Starts a network: http_source → collecting sink (whose behaviour a test can change). */
async function startIngest(opts: Partial<HttpSourceOptions> = {}, handle: (p: unknown) => unknown = () => undefined) {
  const seen: unknown[] = [];
  const logger = captureLogger();
  let resolveListening!: (i: ListeningInfo) => void;
  const listening = new Promise<ListeningInfo>((r) => (resolveListening = r));
  const network = new Network({ logger });
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
  let waiter: (() => void) | undefined;
  socket.on('data', (d) => {
    buffer += d.toString('utf8');
    waiter?.();
  });
  const connected = new Promise<void>((r) => socket.once('connect', () => r()));
  return {
    connected,
    write: (s: string) => socket.write(s),
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

  it('rejects bad options naming the option', () => {
    expect(() => connectors.httpSource({ path: 'events' })).toThrow("option 'path' must start with '/'");
    expect(() => connectors.httpSource({ format: 'xml' as never })).toThrow("option 'format' must be one of");
    expect(() => connectors.httpSource({ port: -1 })).toThrow("option 'port' must be at least 0");
    expect(() => connectors.httpSource({ path: '/h', healthPath: '/h' })).toThrow('must differ');
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

// Event type used only for documentation of what the sink sees.
export type _Seen = Event;
