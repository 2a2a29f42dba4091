import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { parseTimer } from '../../duration';
import { errorMessage } from '../../errors';
import { startOpsServer, type OpsServer } from '../../observe/server';
import { chooseInput, FeedNetwork, Replies, REPLIES_SERVICE } from '../../serve/feed';
import { DurableQueue, type QueueItem } from '../../serve/queue';
import { redact, urlSecrets } from '../../util/redact';
import { CliError, EXIT, type CliIO } from '../exit';
import { createCliLogger, type LogFormat, type LogLevel } from '../logging';
import { buildSession, type SessionOptions } from '../session';

/** Options of `tributary serve`. */
export interface ServeOptions extends SessionOptions {
  /** Port of the request server (0 picks a free one). */
  port: number;
  /** Interface; default 127.0.0.1. */
  host?: string;
  /** The POST path; default `/binge`. */
  path?: string;
  /** `--maintenance-port`: health, stats, metrics and (durable mode) the queue listings. */
  maintenancePort?: number;
  /** `--input-node`: the source requests are fed into (see `chooseInput`). */
  inputNode?: string;
  /** Most open connections; more are refused by the server. Default 1024. */
  maxConnections?: number;
  /** Stateless mode: requests being processed at once; past it 503 with Retry-After. Default 1000. */
  maxInFlight?: number;
  /** Largest body in bytes (413 past it). Default 1 MiB. */
  maxBodySize?: number;
  /** Stateless mode: how long a request waits for its event to settle (504 past it). Default 30s. */
  replyTimeout?: string;
  /** `--durable-queue <file>`: answer 202 once the request is in this SQLite queue; workers process it. */
  durableQueue?: string;
  /** Durable mode: items processed at once. Default 16. */
  workers?: number;
  /** Durable mode: failures after which an item is dead-lettered. Default 5. */
  maxAttempts?: number;
  /** Durable mode: wait before a failed item is retried. Default 1s. */
  retryDelay?: string;
  /** Durable mode: backlog (items not completed) at which new requests get 429. Default 10000. */
  highWater?: number;
  /** Durable mode: backlog below which requests are taken again. Default highWater / 2. */
  lowWater?: number;
  /** Durable mode: SQLite `synchronous` (FULL fsyncs every commit). Default FULL. */
  synchronous?: 'FULL' | 'NORMAL';
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** Ends the daemon like SIGTERM (tests). */
  signal?: AbortSignal;
}

/** Counters the maintenance `/stats` shows. */
/** How long a durable daemon's claim on its queue file outlives its last heartbeat (sent every quarter of it). */
const OWNER_LEASE_MS = 10_000;

interface Stats {
  requests: number;
  byStatus: Record<string, number>;
}

/**
 * `tributary serve <net>…`: builds the network, replaces its input node by the request feed
 * and serves `POST <path>`. Without `--durable-queue` each request's JSON body is one event
 * and the answer waits for it to settle: 200 `{ id, replies }` with what `reply` nodes got
 * (or `{ id, status: 'accepted' }` when the network has none), 500 `{ id, error }` when a
 * node failed on it, 400 for a body that is not JSON, 504 past `--reply-timeout`. With
 * `--durable-queue` the answer is 202 `{ id }` once the body is committed to the queue, 429
 * with Retry-After while the backlog is over the high-water mark; workers process the queue.
 * SIGTERM/SIGINT drain: stop accepting, finish what is in flight, exit 0.
 *
 * @example
 * ```ts
 * process.exitCode = await serveCommand(['net.yaml'], { port: 8080, path: '/binge' }, process);
 * ```
 */
export async function serveCommand(scripts: string[], options: ServeOptions, io: CliIO): Promise<number> {
  const path = options.path ?? '/binge';
  if (!path.startsWith('/')) throw new CliError(EXIT.USAGE, `--path ${path}: must start with '/'`);
  let replyTimeout: number;
  let retryDelay: number;
  let drainTimeout: number;
  try {
    replyTimeout = parseTimer(options.replyTimeout ?? '30s', '--reply-timeout');
    retryDelay = parseTimer(options.retryDelay ?? '1s', '--retry-delay');
    drainTimeout = parseTimer(options.drainTimeout ?? '30s', '--drain-timeout');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  const durable = options.durableQueue !== undefined;
  const workers = options.workers ?? 16;
  const maxAttempts = options.maxAttempts ?? 5;
  const highWater = options.highWater ?? 10_000;
  const lowWater = options.lowWater ?? Math.floor(highWater / 2);
  if (lowWater > highWater) throw new CliError(EXIT.USAGE, `--low-water ${lowWater} is above --high-water ${highWater}`);
  const maxInFlight = options.maxInFlight ?? 1000;
  const maxBodySize = options.maxBodySize ?? 1_048_576;

  const secrets = options.db !== undefined ? urlSecrets(options.db) : [];
  const logger = createCliLogger({ level: options.logLevel, format: options.logFormat, stream: io.stderr, secrets });
  const say = (m: string) => io.stderr.write(`tributary: ${redact(m, secrets)}\n`);
  const session = await buildSession(scripts, {
    ...options,
    logger,
    secrets,
    makeNetwork: (o) => new FeedNetwork(o),
  });
  const network = session.network as FeedNetwork;
  const feed = network.feed;
  const replies = new Replies();
  let queue: DurableQueue | undefined;
  let server: Server | undefined;
  let ops: OpsServer | undefined;
  let unforce: (() => void) | undefined;
  // One daemon per queue file (DurableQueue.takeOwnership); released at a clean stop.
  const daemon = { id: randomUUID(), pid: process.pid, host: hostname() };
  let owned: DurableQueue | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lostQueue: (() => void) | undefined;
  try {
    try {
      network.inputName = chooseInput(network, options.inputNode);
    } catch (e) {
      throw new CliError(EXIT.USAGE, errorMessage(e));
    }
    const names = Object.keys(network.edges());
    const hasReply = names.some((n) => network.get(n)?.kind === 'reply');
    network.provide(REPLIES_SERVICE, replies);
    // Stateless mode collects the replies of each request's event; durable mode has nobody to give them to.
    if (!durable) feed.onEvent = (id) => replies.open(id);
    if (durable) {
      try {
        queue = await DurableQueue.open(options.durableQueue!, { synchronous: options.synchronous ?? 'FULL' });
      } catch (e) {
        throw new CliError(EXIT.USAGE, errorMessage(e));
      }
      try {
        await queue.takeOwnership(daemon, OWNER_LEASE_MS);
      } catch (e) {
        throw new CliError(EXIT.USAGE, errorMessage(e));
      }
      owned = queue;
      const released = await queue.resetClaims();
      if (released > 0) say(`${released} items claimed by a previous process are queued again`);
    }
    try {
      await network.start();
    } catch (e) {
      throw new CliError(EXIT.USAGE, redact(errorMessage(e), secrets));
    }

    const stats: Stats = { requests: 0, byStatus: {} };
    let stopping = false;
    let openRequests = 0;
    let backlog = queue ? await queue.counts().then((c) => c.pending + c.inFlight) : 0;
    let throttled = false;
    const inWork = new Map<number, { item: QueueItem; startedAt: number }>();
    const owner = `pid-${process.pid}`;
    let idle: (() => void)[] = [];
    const checkIdle = () => {
      if (openRequests === 0 && inWork.size === 0) for (const f of idle.splice(0)) f();
    };

    const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
      stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
      if (res.headersSent) return;
      res.writeHead(status, { 'content-type': 'application/json', ...(stopping ? { connection: 'close' } : {}), ...headers });
      res.end(JSON.stringify(body) + '\n');
    };

    const readBody = (req: IncomingMessage): Promise<Buffer | 'too large'> =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let over = false;
        req.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBodySize) over = true;
          else chunks.push(c);
        });
        req.on('end', () => resolve(over ? 'too large' : Buffer.concat(chunks)));
        req.on('error', reject);
      });

    const updateThrottle = () => {
      if (!throttled && backlog >= highWater) throttled = true;
      else if (throttled && backlog < lowWater) throttled = false;
    };

    // Durable mode: take ready items while workers are free; each is deleted once its event settled.
    let claiming = false;
    let again = false;
    const pump = async (): Promise<void> => {
      if (!queue || stopping) return;
      if (claiming) {
        again = true;
        return;
      }
      claiming = true;
      try {
        do {
          again = false;
          while (!stopping && inWork.size < workers) {
            const items = await queue.claim(workers - inWork.size, owner);
            if (items.length === 0) break;
            for (const item of items) work(item);
          }
        } while (again && !stopping);
      } catch (e) {
        logger.error(`durable queue: claim failed: ${errorMessage(e)}`);
      } finally {
        claiming = false;
      }
    };
    const work = (item: QueueItem) => {
      inWork.set(item.id, { item, startedAt: Date.now() });
      let payload: unknown;
      try {
        payload = JSON.parse(item.body);
      } catch (e) {
        // Bodies are checked before they are queued; a row edited by hand is dead at once.
        void finish(item, { ok: false, error: `not JSON: ${errorMessage(e)}`, attempts: maxAttempts });
        return;
      }
      feed.push(payload).then(
        ({ settlement }) =>
          finish(item, settlement.acked ? { ok: true } : { ok: false, error: errorMessage(settlement.reason ?? 'nacked') }),
        (e: unknown) => finish(item, { ok: false, error: errorMessage(e) }),
      );
    };
    const finish = async (item: QueueItem, r: { ok: true } | { ok: false; error: string; attempts?: number }) => {
      try {
        if (r.ok) {
          await queue!.complete(item.id);
          backlog--;
        } else {
          const what = await queue!.fail(item.id, r.error, r.attempts ?? maxAttempts, retryDelay);
          if (what === 'dead') {
            backlog--;
            logger.warn(`durable queue: item ${item.id} failed ${maxAttempts} times and was dead-lettered: ${r.error}`);
          } else logger.warn(`durable queue: item ${item.id} failed, retried in ${retryDelay}ms: ${r.error}`);
        }
      } catch (e) {
        // Left claimed: the next start replays it.
        logger.error(`durable queue: item ${item.id}: cannot record its outcome: ${errorMessage(e)}`);
      }
      inWork.delete(item.id);
      updateThrottle();
      checkIdle();
      void pump();
    };
    const retryTimer = queue ? setInterval(() => void pump(), Math.max(50, Math.min(retryDelay, 1000))) : undefined;
    retryTimer?.unref();

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = (req.url ?? '/').split('?')[0];
      if (stopping) {
        req.resume();
        return send(res, 503, { error: 'the server is stopping' }, { 'retry-after': '1' });
      }
      if (url !== path) {
        req.resume();
        return send(res, 404, { error: `no such path; POST events to ${path}` });
      }
      if (req.method !== 'POST') {
        req.resume();
        return send(res, 405, { error: `use POST on ${path}` }, { allow: 'POST' });
      }
      stats.requests++;
      if (queue) {
        updateThrottle();
        if (throttled) {
          req.resume();
          return send(res, 429, { error: `queue backlog ${backlog} over the high-water mark ${highWater}` }, { 'retry-after': '1' });
        }
      } else if (openRequests >= maxInFlight) {
        req.resume();
        return send(res, 503, { error: `busy: ${openRequests} requests in flight` }, { 'retry-after': '1' });
      }
      openRequests++;
      try {
        const body = await readBody(req);
        if (body === 'too large') return send(res, 413, { error: `body is over the limit of ${maxBodySize} bytes` });
        let payload: unknown;
        try {
          payload = JSON.parse(body.toString('utf8'));
        } catch (e) {
          return send(res, 400, { error: `body is not JSON: ${errorMessage(e)}` });
        }
        if (queue) {
          let id: number;
          try {
            id = await queue.enqueue(JSON.stringify(payload));
          } catch (e) {
            return send(res, 503, { error: `not queued: ${errorMessage(e)}` }, { 'retry-after': '1' });
          }
          backlog++;
          send(res, 202, { id });
          void pump();
          return;
        }
        let timer: { unsubscribe(): void } | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = network.scheduler.schedule(() => resolve('timeout'), replyTimeout);
        });
        let pushed: Awaited<ReturnType<typeof feed.push>> | 'timeout';
        const push = feed.push(payload);
        try {
          pushed = await Promise.race([push, timedOut]);
        } catch (e) {
          return send(res, 503, { error: errorMessage(e) }, { 'retry-after': '1' });
        } finally {
          timer?.unsubscribe();
        }
        if (pushed === 'timeout') {
          // The event is still in the network; its replies are dropped when it settles.
          void push.then((o) => replies.take(o.id));
          return send(res, 504, { error: `the event did not settle within ${replyTimeout}ms` });
        }
        const id = pushed.id;
        const got = replies.take(id);
        if (!pushed.settlement.acked) return send(res, 500, { id, error: errorMessage(pushed.settlement.reason ?? 'nacked') });
        return send(res, 200, hasReply ? { id, replies: got } : { id, status: 'accepted' });
      } finally {
        openRequests--;
        checkIdle();
      }
    };

    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:http only when serving
    const http = require('node:http') as typeof import('node:http');
    const s = http.createServer((req, res) => {
      handle(req, res).catch((e: unknown) => send(res, 500, { error: errorMessage(e) }));
    });
    server = s;
    s.maxConnections = options.maxConnections ?? 1024;
    await new Promise<void>((resolve, reject) => {
      s.once('error', (e) => reject(new CliError(EXIT.USAGE, `--port ${options.port}: cannot listen: ${errorMessage(e)}`)));
      s.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
    });
    const addr = s.address() as AddressInfo;

    const routes = async (p: string): Promise<unknown> => {
      if (p === '/stats') {
        return {
          mode: durable ? 'durable-queue' : 'request-response',
          stopping,
          requests: stats.requests,
          byStatus: stats.byStatus,
          openRequests,
          eventsInFlight: feed.inFlight,
          ...(queue
            ? { queue: { ...(await queue.counts()), backlog, throttled, highWater, lowWater, working: inWork.size, workers } }
            : {}),
        };
      }
      if (!queue) return undefined;
      if (p === '/queue/in-flight') return { items: await queue.list('in-flight', 1000) };
      if (p === '/queue/pending') return { items: await queue.list('pending', 1000) };
      if (p === '/queue/dead-letters') return { items: await queue.list('dead', 1000) };
      return undefined;
    };
    if (options.maintenancePort !== undefined) {
      const token = process.env.TRIBUTARY_HTTP_TOKEN;
      try {
        ops = await startOpsServer(network, {
          host: options.host ?? '127.0.0.1',
          port: options.maintenancePort,
          routes,
          ...(token ? { token } : {}),
        });
      } catch (e) {
        throw new CliError(EXIT.USAGE, `--maintenance-port: ${errorMessage(e)}`);
      }
    }
    say(
      `serving POST http://${addr.address}:${addr.port}${path} (${durable ? `durable queue ${options.durableQueue}` : 'request/response'})` +
        (ops ? `; maintenance ${ops.url}/stats` : ''),
    );
    void pump();
    if (queue) {
      const q = queue;
      heartbeat = setInterval(() => {
        void q.renewOwnership(daemon).then(
          (ok) => {
            if (ok) return;
            say(`lost the queue ${options.durableQueue} to another daemon (no heartbeat for ${OWNER_LEASE_MS} ms); stopping`);
            owned = undefined;
            lostQueue?.();
          },
          (e: unknown) => say(`queue heartbeat failed: ${errorMessage(e)}`),
        );
      }, OWNER_LEASE_MS / 4);
      heartbeat.unref();
    }

    // Run until a signal (or options.signal) or the network ending by itself; a second signal while draining exits at once.
    const force = () => process.exit(130);
    unforce = () => {
      process.off('SIGINT', force);
      process.off('SIGTERM', force);
    };
    const reason = await new Promise<string>((resolve) => {
      const onSignal = () => end('signal');
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      options.signal?.addEventListener('abort', onSignal);
      void network.done().then(() => end('network ended'));
      lostQueue = () => end('another daemon took the queue file over');
      function end(r: string) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        options.signal?.removeEventListener('abort', onSignal);
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
        resolve(r);
      }
    });
    // Drain: refuse new work, let what is in flight finish, then stop the network.
    stopping = true;
    say(`draining (${reason}): ${openRequests} requests, ${inWork.size} queue items in flight`);
    s.close();
    s.closeIdleConnections();
    while (claiming) await new Promise((r) => setImmediate(r));
    // What is in flight finishes first; events a window holds settle only in the network's own
    // drain, so past the drain timeout the network is drained anyway (its drain settles them).
    const waitIdle = () => (openRequests > 0 || inWork.size > 0 ? new Promise<void>((resolve) => idle.push(resolve)) : Promise.resolve());
    let waited: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([waitIdle(), new Promise<void>((resolve) => (waited = setTimeout(resolve, drainTimeout)))]);
    clearTimeout(waited);
    clearInterval(retryTimer);
    feed.end();
    const report = await network.stop();
    // Items whose events settled in the network's drain record their outcome before the queue closes.
    if (inWork.size > 0) await Promise.race([waitIdle(), new Promise<void>((resolve) => (waited = setTimeout(resolve, 5_000)))]);
    clearTimeout(waited);
    idle = [];
    if (report.failure) {
      say(redact(report.failure, secrets));
      return EXIT.RUNTIME;
    }
    if (report.timedOut) {
      say('the drain timed out; events in flight were cut off');
      return EXIT.RUNTIME;
    }
    say('stopped');
    return EXIT.OK;
  } finally {
    unforce?.();
    server?.closeAllConnections();
    await ops?.close();
    clearInterval(heartbeat);
    await owned?.releaseOwnership(daemon).catch(() => undefined);
    await queue?.close();
    await session.close();
  }
}

/**
 * `tributary queue dead-letters|requeue`: lists the dead-lettered items of a durable queue, or
 * puts some (or all) back to be processed again by the daemon.
 *
 * @example
 * ```ts
 * await queueCommand({ action: 'requeue', file: './queue.db', ids: [7] }, process);
 * ```
 */
export async function queueCommand(
  o: { action: 'dead-letters' | 'requeue' | 'list'; file: string; ids?: string[]; all?: boolean; json?: boolean; which?: string },
  io: CliIO,
): Promise<number> {
  let queue: DurableQueue;
  try {
    queue = await DurableQueue.open(o.file);
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  try {
    if (o.action === 'requeue') {
      let ids: number[] | 'all';
      if (o.all) ids = 'all';
      else {
        ids = (o.ids ?? []).map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new CliError(EXIT.USAGE, `requeue: '${v}' is not an item id`);
          return n;
        });
        if (ids.length === 0) throw new CliError(EXIT.USAGE, 'requeue: name item ids, or --all');
      }
      const n = await queue.requeue(ids);
      io.stdout.write(`${n} item${n === 1 ? '' : 's'} queued again\n`);
      return EXIT.OK;
    }
    const which = o.action === 'dead-letters' ? 'dead' : ((o.which ?? 'pending') as 'pending' | 'in-flight' | 'dead');
    const items = await queue.list(which, 100_000);
    if (o.json) io.stdout.write(JSON.stringify(items) + '\n');
    else if (items.length === 0) io.stdout.write(`no ${which === 'dead' ? 'dead-lettered' : which} items\n`);
    else
      for (const i of items)
        io.stdout.write(
          `${i.id}\tattempts=${i.attempts}\tage=${Math.round(i.ageMs / 1000)}s${i.lastError !== undefined ? `\terror=${i.lastError}` : ''}\n`,
        );
    return EXIT.OK;
  } finally {
    await queue.close();
  }
}
