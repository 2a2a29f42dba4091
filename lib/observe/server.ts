import { bearerMatches } from '../util/bearer';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTimer, type Duration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import type { Network } from '../network/network';
import { livePage } from './page';
export { parseListen } from './listen';
import { dotToSvg } from './svg';

/** Options of {@link startOpsServer} (and the Network option `http`). */
export interface OpsServerOptions {
  /** Interface to listen on. Default `127.0.0.1` (only this machine). */
  host?: string;
  /** Port; 0 picks a free one. Default 9464. */
  port?: number;
  /**
   * Bearer token asked of every path but `/healthz` and `/readyz` (as `Authorization: Bearer …`,
   * or `?token=` for the page and its event stream, which browsers cannot give headers).
   */
  token?: string;
  /** How often the live page gets a snapshot. Default `"1s"`. */
  interval?: Duration;
  /** The page's title. Default `tributary`. */
  title?: string;
  /**
   * More GET paths (`tributary serve`'s `/stats`, `/queue/…`): resolves to the JSON body to
   * answer 200 with, or undefined for "not mine". Asked after the built-in paths, behind the token.
   */
  routes?: (path: string) => unknown;
}

/** A running operations server. */
export interface OpsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (the token not included). */
  readonly url: string;
  /** Stops listening and ends the event streams. */
  close(): Promise<void>;
}

/**
 * Serves a network's operations endpoints on one port: `/metrics` (Prometheus, see
 * `networkMetrics`), `/healthz` (200 while the process is alive), `/readyz` (200 while the
 * network runs; 503 before, while stopping and after), `/` (the live page), `/graph.svg`
 * (the drawing), `/events` (snapshots as Server-Sent Events) and `/nodes/<name>` (a node's
 * kind, options with secrets hidden, and last errors). Bound to 127.0.0.1 unless told
 * otherwise; with `token`, every path but the health checks asks for it.
 *
 * @example
 * ```ts
 * const ops = await startOpsServer(net, { port: 9464, token: process.env.OPS_TOKEN });
 * // curl -H "authorization: Bearer $OPS_TOKEN" http://127.0.0.1:9464/metrics
 * await ops.close();
 * ```
 */
export async function startOpsServer(net: Network, options: OpsServerOptions = {}): Promise<OpsServer> {
  const host = options.host ?? '127.0.0.1';
  const interval = parseTimer(options.interval ?? '1s', 'interval');
  const token = options.token;
  if (token !== undefined && token.length === 0) throw new TributaryError('BAD_OPTION', "ops server: option 'token' must not be empty");
  const title = options.title ?? 'tributary';
  const streams = new Set<http.ServerResponse>();
  let svg: Promise<string> | undefined;

  const authorized = (req: http.IncomingMessage, url: URL): boolean => {
    if (token === undefined) return true;
    const header = req.headers.authorization;
    // The live page's browser cannot set a header on an EventSource: `?token=` stands in for it.
    return bearerMatches(header?.startsWith('Bearer ') ? header : `Bearer ${url.searchParams.get('token') ?? ''}`, token);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body) + '\n');
  };
  const live = () => {
    const snap = net.snapshot();
    return JSON.stringify({
      ...snap,
      wall: Date.now(),
      nodes: snap.nodes.map(({ timing: _t, errors, ...n }) => ({ ...n, lastError: errors[errors.length - 1] })),
    });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://ops');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    if (path === '/healthz') return json(res, 200, { status: 'alive' });
    if (path === '/readyz') {
      const state = net.state;
      return json(res, state === 'running' ? 200 : 503, { ready: state === 'running', state });
    }
    if (!authorized(req, url)) return json(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
    if (path === '/metrics') {
      const registry = net.metrics();
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      return void res.end(text);
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return void res.end(livePage(title));
    }
    if (path === '/graph.svg') {
      svg ??= dotToSvg(net.toDot({ live: true }));
      const text = await svg;
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'no-store' });
      return void res.end(text);
    }
    if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: ${interval}\n\ndata: ${live()}\n\n`);
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (path.startsWith('/nodes/')) {
      const name = decodeURIComponent(path.slice('/nodes/'.length));
      const about = net.describe(name);
      if (!about) return json(res, 404, { error: `no node '${name}'` });
      const node = net.snapshot().nodes.find((n) => n.name === name)!;
      return json(res, 200, { ...about, stats: node.stats, inFlight: node.inFlight, gauges: node.gauges, errors: node.errors });
    }
    if (options.routes) {
      const body: unknown = await options.routes(path);
      if (body !== undefined) return json(res, 200, body);
    }
    return json(res, 404, { error: 'no such path; try /, /metrics, /healthz, /readyz, /events, /graph.svg, /nodes/<name>' });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: errorMessage(err) });
      else res.destroy();
    });
  });
  const ticker = setInterval(() => {
    if (streams.size === 0) return;
    const data = `data: ${live()}\n\n`;
    for (const res of streams) res.write(data);
  }, interval);
  ticker.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new TributaryError('BAD_OPTION', `ops server: cannot listen on ${host}:${options.port ?? 9464}: ${errorMessage(err)}`)),
    );
    server.listen(options.port ?? 9464, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `http://${shownHost}:${port}`,
    close: async () => {
      clearInterval(ticker);
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
