import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { asyncScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Logger, Settlement } from 'tributary';

/** One request a test receiver saw. */
export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What a handler answers: a status and body, or 'hang' to never answer. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

/** A real local HTTP server on port 0 that records requests and answers with `answer(n, req)`. */
export async function startReceiver(answer: (n: number, req: Received) => Answer = () => ({ status: 200 })) {
  const requests: Received[] = [];
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      const a = answer(requests.length, r);
      if (a === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(a.status, { 'content-type': 'application/json', ...(a.headers ?? {}) });
      res.end(a.body ?? '{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A logger that keeps every message. */
export function captureLogger(): Logger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    warn: (m) => messages.push(`warn: ${m}`),
    error: (m) => messages.push(`error: ${m}`),
  };
}

/** Collects settlements from an injector/from source's onSettle. */
export function settlements() {
  const list: { payload: unknown; settlement: Settlement }[] = [];
  return {
    list,
    onSettle: (e: { payload: unknown }, s: Settlement) => list.push({ payload: e.payload, settlement: s }),
    acked: () => list.filter((x) => x.settlement.acked).map((x) => x.payload),
    nacked: () =>
      list.filter((x) => !x.settlement.acked).map((x) => ({ payload: x.payload, reason: (x.settlement as { reason: unknown }).reason })),
  };
}

/**
 * A scheduler that records every delay asked of it and runs the work after `delay * scale`
 * real ms: proves a node takes its timers from the network's scheduler, and keeps back-off
 * tests fast (give such tests a long request timeout, which shrinks too).
 */
export function recordingScheduler(scale = 0.001): SchedulerLike & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => asyncScheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      delays.push(delay);
      return asyncScheduler.schedule(work, delay * scale, state);
    },
  } as SchedulerLike & { delays: number[] };
}

/**
 * A scheduler running work after the real delay that keeps every action it scheduled:
 * `pending()` lists the delays of those neither run nor cancelled (a retry still waiting).
 */
export function trackingScheduler(): SchedulerLike & { delays: number[]; pending(): number[] } {
  const delays: number[] = [];
  const actions: { delay: number; sub: Subscription; ran: boolean }[] = [];
  return {
    delays,
    pending: () => actions.filter((a) => !a.ran && !a.sub.closed).map((a) => a.delay),
    now: () => asyncScheduler.now(),
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      delays.push(delay);
      const entry = { delay, ran: false, sub: undefined as unknown as Subscription };
      entry.sub = asyncScheduler.schedule(
        function (this: SchedulerAction<T>, s?: T) {
          entry.ran = true;
          work.call(this, s);
        },
        delay,
        state,
      );
      actions.push(entry);
      return entry.sub;
    },
  } as SchedulerLike & { delays: number[]; pending(): number[] };
}

/** Polls `check` until it is true or the deadline passes (for external services only). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A real TCP proxy on a free local port to `targetPort`; `drop()` cuts every proxied
 * connection at once, as a network failure would, while the proxy keeps listening so clients
 * can reconnect.
 */
export async function tcpProxy(targetPort: number, targetHost = '127.0.0.1') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const net = require('node:net') as typeof import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const clients = new Set<import('node:net').Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    clients.add(client);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      clients.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    /** How many client connections the proxy has accepted so far. */
    get connections() {
      return connections;
    },
    /** How many client connections are open right now. */
    get open() {
      return clients.size;
    },
    drop() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      clients.clear();
    },
    async close() {
      this.drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A real TCP proxy to an AMQP 0-9-1 broker that can close a channel on the client side only:
 * `closeChannel(n)` sends each client a broker's `channel.close` (406) for channel `n` and
 * swallows the client's `channel.close-ok`, so the broker keeps the connection (and its view
 * of the channel) while the client sees its channel closed by the broker.
 */
export async function amqpChannelCloser(targetPort: number, targetHost = '127.0.0.1') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const net = require('node:net') as typeof import('node:net');
  const clients = new Set<import('node:net').Socket>();
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    clients.add(client);
    const upstream = net.connect(targetPort, targetHost);
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    let headerDone = false;
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      if (!headerDone) {
        if (pending.length < 8) return;
        upstream.write(pending.subarray(0, 8));
        pending = pending.subarray(8);
        headerDone = true;
      }
      while (pending.length >= 7) {
        const size = pending.readUInt32BE(3);
        if (pending.length < 7 + size + 1) break;
        const frame = pending.subarray(0, 8 + size);
        pending = pending.subarray(8 + size);
        const closeOk = frame[0] === 1 && size >= 4 && frame.readUInt16BE(7) === 20 && frame.readUInt16BE(9) === 41;
        if (!closeOk) upstream.write(frame);
      }
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      clients.delete(client);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    closeChannel(channel: number) {
      const text = Buffer.from('PRECONDITION_FAILED - closed by the test');
      const payload = Buffer.alloc(4 + 2 + 1 + text.length + 4);
      let at = payload.writeUInt16BE(20, 0);
      at = payload.writeUInt16BE(40, at);
      at = payload.writeUInt16BE(406, at);
      at = payload.writeUInt8(text.length, at);
      at += text.copy(payload, at);
      at = payload.writeUInt16BE(60, at);
      payload.writeUInt16BE(80, at);
      const head = Buffer.alloc(7);
      head.writeUInt8(1, 0);
      head.writeUInt16BE(channel, 1);
      head.writeUInt32BE(payload.length, 3);
      const frame = Buffer.concat([head, payload, Buffer.from([0xce])]);
      for (const c of clients) c.write(frame);
    },
    async close() {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
