import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError } from '../errors';
import { bearerMatches } from '../util/bearer';
import { Ticker, TickerRequestError, type MessageRef } from './ticker';
import type { AnchorProof } from './ticker-client';

/** Options of {@link serveTicker}. */
export interface ServeTickerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request body in bytes (default 16 MiB). */
  maxBodySize?: number;
  /**
   * Bearer token an anchor must carry (`Authorization: Bearer <token>`); without one anyone who
   * can reach the port may start substreams. Reads (ticks, happened-before) stay open: they are
   * what anyone verifying a chain needs. Never logged or echoed.
   */
  token?: string;
}

/** A running ticker server. */
export interface TickerServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, answers waiting anchors with 503, closes connections. */
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new TickerRequestError(400, `body larger than ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function messageRef(v: string | null, name: string): MessageRef {
  const m = v === null ? null : /^([A-Za-z0-9._-]{1,128}):(\d{1,15})$/.exec(v);
  if (!m) throw new TickerRequestError(400, `query parameter '${name}' must be <substream>:<index>, e.g. A:3`);
  return { substream: m[1], index: Number(m[2]) };
}

/**
 * Serves a {@link Ticker} over HTTP (the ticker keeps ticking on its own; this only answers):
 * - `GET /head` → the latest tick `{ index, time, digest }`; `GET /ticks/<n>` → tick n;
 * - `POST /anchor` with `{ substream, publicKey, entries }` → 200 `{ substream, from, to, tick }`
 *   once the tick the anchor landed in is made; 400 `{ error }` naming what is wrong;
 * - `GET /happened-before?a=A:3&b=B:4` → `{ result: 'before' | 'after' | 'concurrent', a, b }`
 *   (404 when a message is not anchored yet);
 * - `GET /substreams/<id>` → what the ticker knows of it; `GET /healthz` → `{ ok, head }`.
 *
 * With `token`, `POST /anchor` without `Authorization: Bearer <token>` is answered 401.
 *
 * @example
 * ```ts
 * const ticker = await Ticker.open({ store, interval: 1000 });
 * ticker.start();
 * const server = await serveTicker(ticker, { port: 8081, token: process.env.TRIBUTARY_TICKER_TOKEN });
 * // … later
 * await server.close();
 * await ticker.stop();
 * ```
 */
export async function serveTicker(ticker: Ticker, options: ServeTickerOptions): Promise<TickerServer> {
  const limit = options.maxBodySize ?? 16 * 1024 * 1024;
  const token = options.token;
  if (token !== undefined && token.length === 0) throw new TributaryError('BAD_OPTION', "ticker server: option 'token' must not be empty");
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://ticker');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/head') return send(res, 200, ticker.headTick);
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true, head: ticker.headTick.index });
    let m = /^\/ticks\/(\d{1,15})$/.exec(path);
    if (req.method === 'GET' && m) {
      const t = await ticker.getTick(Number(m[1]));
      return t ? send(res, 200, t) : send(res, 404, { error: `no tick ${m[1]}` });
    }
    m = /^\/substreams\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && m) return send(res, 200, await ticker.substream(decodeURIComponent(m[1])));
    if (req.method === 'GET' && path === '/happened-before') {
      const a = messageRef(url.searchParams.get('a'), 'a');
      const b = messageRef(url.searchParams.get('b'), 'b');
      return send(res, 200, await ticker.happenedBefore(a, b));
    }
    if (path === '/anchor') {
      if (req.method !== 'POST') return send(res, 405, { error: 'POST an anchor proof' });
      if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
        res.setHeader('www-authenticate', 'Bearer');
        return send(res, 401, { error: 'anchoring needs a valid bearer token (the entwine node option tickerToken)' });
      }
      const text = await readBody(req, limit);
      let proof: AnchorProof;
      try {
        proof = JSON.parse(text) as AnchorProof;
      } catch (e) {
        throw new TickerRequestError(400, `body is not JSON: ${(e as Error).message}`);
      }
      return send(res, 200, await ticker.anchor(proof));
    }
    return send(res, 404, { error: `no route ${req.method ?? ''} ${path}` });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof TickerRequestError) return send(res, e.status, { error: e.message });
      send(res, 500, { error: (e as Error).message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Requests under way (an anchor waiting for its tick) may finish; idle keep-alive
        // connections go now, the rest after a grace period.
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
