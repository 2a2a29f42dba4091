import { bearerMatches } from '../util/bearer';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMessage } from '../errors';
import type { EventStore } from './store';
import { checkId, compareIds, EventStoreError } from './types';

/** Options of {@link serveEventStore}. */
export interface EventStoreServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free one). */
  port?: number;
  /** Bearer token every request must carry; none: open (bind to loopback then). */
  token?: string;
  /** How often a push stream looks for new events (default 250 ms; local commits wake it). */
  pollInterval?: number;
  /** Where request failures are reported (never with the token). */
  onError?: (message: string) => void;
}

/** A running event store HTTP server. */
export interface EventStoreServer {
  /** `http://host:port`. */
  readonly url: string;
  /** Stops accepting, ends open push streams and closes the server. */
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new EventStoreError('InvalidId', 'request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new EventStoreError('InvalidId', 'request body must be a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

const statusOf = (e: unknown): number => {
  if (e instanceof EventStoreError) return e.reason === 'NotRegistered' ? 404 : e.reason === 'LiveNotAllowed' ? 403 : 400;
  return 500;
};

/**
 * Serves an event store to other processes over HTTP (JSON), FTN18's poll and push for
 * services that do not share the database:
 *
 * - `PUT /consumers/{component}` registers a reliable consumer (idempotent) → 204
 * - `GET /events?component=…&lastId=…&want=A,B&limit=…` polls (FTN18 semantics; `component`
 *   defaults to `LIVE`) → `{ "events": [{ id, type, data, ts }] }`
 * - `POST /consumers/{component}/ack` with `{ "lastId": "…" }` moves the pointer → `{ "lastId" }`
 * - `GET /stream?component=…&want=…` pushes events as Server-Sent Events (`id:` the position,
 *   `event:` the type, `data:` the JSON event). A reliable stream starts after the stored
 *   pointer (or `Last-Event-ID` if later); the pointer moves only by acks, so a reconnect
 *   replays what was not acknowledged. `LIVE` starts at the end (or after `Last-Event-ID`).
 *
 * With a token every request needs `Authorization: Bearer <token>`; the token is never
 * logged. Errors answer with FTN18's name: `{ "error": "NotRegistered", "message": … }`.
 *
 * @example
 * ```ts
 * const server = await serveEventStore(store, { port: 8085, token: process.env.TRIBUTARY_EVENTSTORE_TOKEN });
 * // curl -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:8085/events?component=billing'
 * ```
 */
export async function serveEventStore(store: EventStore, options: EventStoreServerOptions = {}): Promise<EventStoreServer> {
  const token = options.token || undefined;
  const onError = options.onError ?? ((m: string) => console.error(`event store server: ${m}`));
  const streams = new Set<() => void>();
  const authorized = (req: IncomingMessage): boolean => token === undefined || bearerMatches(req.headers.authorization, token);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (!authorized(req)) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { error: 'Unauthorized', message: 'a valid bearer token is required' });
    }
    const want = url.searchParams.get('want')?.split(',').filter(Boolean);
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'events') {
      const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : undefined;
      const events = await store.poll(url.searchParams.get('component') ?? 'LIVE', {
        lastId: url.searchParams.get('lastId') ?? undefined,
        want,
        limit,
      });
      return send(res, 200, { events });
    }
    if (req.method === 'PUT' && parts.length === 2 && parts[0] === 'consumers') {
      await store.registerConsumer(parts[1]);
      return send(res, 204);
    }
    if (req.method === 'POST' && parts.length === 3 && parts[0] === 'consumers' && parts[2] === 'ack') {
      const body = await readJson(req);
      return send(res, 200, { lastId: await store.ack(parts[1], checkId(body.lastId ?? '0')) });
    }
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'stream') {
      return stream(req, res, url.searchParams.get('component') ?? 'LIVE', want);
    }
    send(res, 404, { error: 'NotFound', message: `no route ${req.method} ${url.pathname}` });
  };

  const stream = async (req: IncomingMessage, res: ServerResponse, component: string, want?: string[]): Promise<void> => {
    const resume = req.headers['last-event-id'];
    let cursor: string;
    if (component === 'LIVE') {
      await store.sequence();
      cursor = typeof resume === 'string' ? checkId(resume, 'Last-Event-ID') : await store.lastPosition();
    } else {
      cursor = await store.ack(component, '0'); // the stored pointer (and NotRegistered when unknown)
      if (typeof resume === 'string' && compareIds(checkId(resume, 'Last-Event-ID'), cursor) > 0) cursor = resume;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    let open = true;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const stop = () => {
      open = false;
      if (timer) clearTimeout(timer);
      wake?.();
      res.end();
    };
    streams.add(stop);
    const woken = store.appended$.subscribe(() => wake?.());
    req.on('close', () => {
      open = false;
      wake?.();
    });
    try {
      while (open) {
        const events = await store.poll('LIVE', { lastId: cursor, want, limit: 1000 });
        for (const e of events) {
          res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
          cursor = e.id;
        }
        if (events.length === 0 && open) {
          await new Promise<void>((resolve) => {
            wake = () => {
              wake = undefined;
              if (timer) clearTimeout(timer);
              resolve();
            };
            timer = setTimeout(() => wake?.(), options.pollInterval ?? 250);
          });
        }
      }
    } finally {
      woken.unsubscribe();
      streams.delete(stop);
      if (!res.writableEnded) res.end();
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = statusOf(e);
      if (status === 500) onError(`${req.method} ${(req.url ?? '').split('?')[0]}: ${errorMessage(e)}`);
      if (res.headersSent) return void res.end();
      send(res, status, { error: e instanceof EventStoreError ? e.reason : 'InternalError', message: errorMessage(e) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: async () => {
      for (const s of [...streams]) s();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
