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
      const r: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
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
    nacked: () => list.filter((x) => !x.settlement.acked).map((x) => ({ payload: x.payload, reason: (x.settlement as { reason: unknown }).reason })),
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
