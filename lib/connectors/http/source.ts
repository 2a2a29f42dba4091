import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { Observable } from 'rxjs';
import { createDelivery, type Settlement } from '../../delivery';
import { errorMessage, TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { connectionFields, deliveryFields, optionOrEnv } from '../fields';
import type { NodeContext } from '../../nodes/types';
import { connectWithRetry } from '../retry';
import { decodeBody, encodingOf, inflateBody, mediaOf, parseBody, type Media } from './body';

/** Where an HTTP source ended up listening (port 0 picks a free one). */
export interface ListeningInfo {
  host: string;
  port: number;
  /** The ingest URL, e.g. `http://127.0.0.1:8080/events`. */
  url: string;
}

/** The options of {@link httpSource}, declared once: types, validation, defaults and docs come from here. */
export const httpSourceOptions = {
  port: opt.integer('port to listen on; 0 picks a free one (see onListening)', { min: 0, max: 65535 }).withDefault(8080),
  host: opt.string('interface to bind ("0.0.0.0" for all)').withDefault('127.0.0.1'),
  path: opt.string('ingest path (POST)').withDefault('/events'),
  healthPath: opt.string('health path: 200 while running, 503 while stopping').withDefault('/health'),
  format: opt.enum(['auto', 'json', 'ndjson'] as const, 'body format; auto picks NDJSON for application/x-ndjson').withDefault('auto'),
  maxBodySize: opt.integer('largest accepted body in bytes (400 past it)', { min: 1 }).withDefault(1_048_576),
  maxDepth: opt.integer('deepest nesting of objects/arrays in one event (400 past it)', { min: 1 }).withDefault(64),
  headersTimeout: opt
    .timer('how long a client may take to send the request headers (408 and the socket closed past it)', { min: 1 })
    .withDefault('10s'),
  bodyTimeout: opt
    .timer('how long a client may take to send the body once its headers arrived (408 and the socket closed past it)', { min: 1 })
    .withDefault('10s'),
  token: connectionFields.token.describe('bearer token clients must send (default: the variable named by tokenEnv, if set)'),
  tokenEnv: connectionFields.tokenEnv.describe('environment variable holding the bearer token').withDefault('TRIBUTARY_HTTP_TOKEN'),
  respond: opt
    .enum(['accepted', 'acked'] as const, '"accepted": 202 at once; "acked": 200 after every event was acked, 500 if one was nacked')
    .withDefault('accepted'),
  ackTimeout: deliveryFields.ackTimeout.describe('in acked mode, how long to wait for acks before answering 504').withDefault('30s'),
  maxInFlight: deliveryFields.maxInFlight.describe('cap on unsettled events; past it requests get 503 with Retry-After'),
  onListening: opt.fn<(info: ListeningInfo) => void>('({ host, port, url }) => void once the server listens'),
};

/** Options of {@link httpSource}. */
export type HttpSourceOptions = InputOf<typeof httpSourceOptions>;

export { parseBody };

function send(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  then?: () => void,
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body) + '\n', then);
}

function tokenMatches(expected: string, header: string | undefined): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1].trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function httpSourceObservable(ctx: NodeContext, o: OutputOf<typeof httpSourceOptions>): Observable<Event> {
  const token = optionOrEnv(o.token, o.tokenEnv);
  return new Observable<Event>((subscriber) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
    const http = require('node:http') as typeof import('node:http');
    const controller = new AbortController();
    let stopping = false;
    let inFlight = 0;
    let pendingRequests = 0;
    let reading = 0; // request bodies being read: each holds one maxInFlight slot until parsed
    let server: Server | undefined;
    const address = `http://${o.host}:${o.port}`;

    // While the network drains, the server keeps listening and answers 503 (Connection: close)
    // to every new request; it closes once no request is pending and every event it emitted
    // was settled.
    let closed = false;
    const maybeClose = () => {
      if (!stopping || !server || closed) return;
      if (pendingRequests === 0) server.closeIdleConnections();
      if (pendingRequests === 0 && inFlight === 0) {
        closed = true;
        server.close();
        server.closeIdleConnections();
      }
    };

    const ingest = (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST') return send(res, 405, { error: `use POST on ${o.path}` }, { allow: 'POST' });
      if (token !== undefined && !tokenMatches(token, req.headers.authorization)) {
        req.resume();
        return send(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' });
      }
      // A body being read reserves one slot until it is parsed and its events counted.
      if (o.maxInFlight !== undefined && inFlight + reading >= o.maxInFlight) {
        req.resume();
        const bodies = reading > 0 ? `, ${reading} request bodies being read` : '';
        return send(res, 503, { error: `busy: ${inFlight} events in flight${bodies}` }, { 'retry-after': '1' });
      }
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > o.maxBodySize) {
        req.resume();
        return send(res, 400, { error: `body of ${declared} bytes is over the limit of ${o.maxBodySize} bytes` }, { connection: 'close' });
      }
      let media: Media;
      let coding: ReturnType<typeof encodingOf>;
      try {
        media = mediaOf(req.headers['content-type']);
        coding = encodingOf(req.headers['content-encoding']);
      } catch (err) {
        req.resume();
        return send(res, 415, { error: errorMessage(err) }, { connection: 'close' });
      }
      const format: 'json' | 'ndjson' = o.format !== 'auto' ? o.format : (media.format ?? 'json');
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      let ended = false; // the body arrived, failed or timed out: no more reading
      let finished = false;
      pendingRequests++;
      reading++;
      let read = false;
      let bodyTimer: { unsubscribe(): void } | undefined;
      const doneReading = () => {
        if (!read) reading--;
        read = true;
      };
      const finish = () => {
        bodyTimer?.unsubscribe();
        doneReading();
        if (finished) return;
        finished = true;
        pendingRequests--;
        maybeClose();
      };
      req.on('data', (chunk: Buffer) => {
        if (over || ended) return;
        size += chunk.length;
        if (size > o.maxBodySize) {
          over = true;
          chunks.length = 0;
          doneReading(); // answered: the rest is only drained (bounded by bodyTimeout)
          send(res, 400, { error: `body is over the limit of ${o.maxBodySize} bytes` }, { connection: 'close' });
          return;
        }
        chunks.push(chunk);
      });
      // A client that went away mid-body ('close' without 'end') frees its slot at once.
      const gone = () => {
        if (ended) return;
        ended = true;
        finish();
      };
      req.on('error', gone);
      req.on('close', gone);
      // A client trickling its body would hold its slot for ever: past bodyTimeout it gets 408
      // and its socket is closed, which frees the slot.
      bodyTimer = ctx.scheduler.schedule(() => {
        if (ended) return;
        ended = true;
        chunks.length = 0;
        const close = () => req.socket.destroy();
        if (res.headersSent) close();
        else send(res, 408, { error: `body not received within ${o.bodyTimeout}ms (bodyTimeout)` }, { connection: 'close' }, close);
        finish();
      }, o.bodyTimeout);
      req.on('end', () => {
        if (ended) return;
        ended = true;
        bodyTimer?.unsubscribe();
        if (over) return finish();
        if (stopping) {
          send(res, 503, { error: 'the network is stopping' }, { connection: 'close' });
          return finish();
        }
        let payloads: unknown[];
        try {
          const body = inflateBody(Buffer.concat(chunks), coding, o.maxBodySize);
          payloads = parseBody(decodeBody(body, media.charset), format, o.maxDepth);
        } catch (err) {
          send(res, 400, { error: errorMessage(err) });
          return finish();
        }
        doneReading();
        if (o.maxInFlight !== undefined && payloads.length > o.maxInFlight) {
          send(res, 413, { error: `${payloads.length} events in one request are over maxInFlight ${o.maxInFlight}; send smaller batches` });
          return finish();
        }
        if (o.maxInFlight !== undefined && inFlight + reading + payloads.length > o.maxInFlight) {
          send(
            res,
            503,
            { error: `busy: ${inFlight} events in flight, ${payloads.length} more would pass maxInFlight ${o.maxInFlight}` },
            { 'retry-after': '1' },
          );
          return finish();
        }
        emitAll(payloads, res, finish);
      });
    };

    const emitAll = (payloads: unknown[], res: ServerResponse, finish: () => void) => {
      let open = payloads.length;
      let failure: unknown;
      let answered = false;
      const waitAcks = o.respond === 'acked';
      let timer: { unsubscribe(): void } | undefined;
      const answer = () => {
        if (answered) return;
        answered = true;
        timer?.unsubscribe();
        if (failure !== undefined)
          send(res, 500, { error: `an event was not processed: ${errorMessage(failure)}`, accepted: payloads.length });
        else send(res, 200, { accepted: payloads.length, acked: payloads.length });
        finish();
      };
      const onSettle = (event: Event, s: Settlement) => {
        inFlight--;
        if (inFlight === 0) queueMicrotask(maybeClose);
        if (!s.acked) {
          if (failure === undefined) failure = s.reason ?? 'nacked';
          if (!waitAcks)
            ctx.logger.warn(
              `node '${ctx.name}': event ${event.meta.id} was nacked after its request was answered 202: ${errorMessage(s.reason)}`,
            );
        }
        if (--open === 0 && waitAcks) answer();
      };
      if (waitAcks) {
        timer = ctx.scheduler.schedule(() => {
          if (answered) return;
          answered = true;
          send(res, 504, { error: `events not acked within ${o.ackTimeout}ms`, accepted: payloads.length });
          finish();
        }, o.ackTimeout);
      }
      for (const payload of payloads) {
        inFlight++;
        let event: Event;
        const delivery = createDelivery((s) => onSettle(event, s));
        event = ctx.event(payload, { delivery });
        subscriber.next(event);
      }
      if (!waitAcks) {
        send(res, 202, { accepted: payloads.length });
        finish();
      }
    };

    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const url = (req.url ?? '/').split('?')[0];
      if (url === o.healthPath && (req.method === 'GET' || req.method === 'HEAD')) {
        return stopping
          ? send(res, 503, { status: 'stopping', inFlight, reading }, { connection: 'close' })
          : send(res, 200, { status: 'ok', inFlight, reading });
      }
      if (stopping) {
        req.resume();
        return send(res, 503, { error: 'the network is stopping' }, { connection: 'close' });
      }
      if (url !== o.path) {
        req.resume();
        return send(res, 404, { error: `no such path; send events to ${o.path}` });
      }
      ingest(req, res);
    };

    void connectWithRetry(
      () =>
        new Promise<Server>((resolve, reject) => {
          // Node answers 408 to a client still sending headers after headersTimeout (checked every
          // connectionsCheckingInterval); the body has its own timer (bodyTimeout, above).
          const s = http.createServer(
            {
              headersTimeout: o.headersTimeout,
              requestTimeout: 0,
              connectionsCheckingInterval: Math.min(30_000, Math.max(10, Math.floor(o.headersTimeout / 4))),
            },
            handle,
          );
          s.once('error', reject);
          s.listen(o.port, o.host, () => {
            s.off('error', reject);
            resolve(s);
          });
        }),
      {
        scheduler: ctx.scheduler,
        logger: ctx.logger,
        who: `node '${ctx.name}'`,
        address: `${address} (listen)`,
        backoff: { initial: 250, max: 10_000 },
        signal: controller.signal,
      },
    ).then((s) => {
      if (!s) return;
      server = s;
      s.on('error', (err) => ctx.logger.error(`node '${ctx.name}': server at ${address}: ${errorMessage(err)}`));
      if (controller.signal.aborted) {
        s.close();
        return;
      }
      const port = (s.address() as import('node:net').AddressInfo).port;
      try {
        o.onListening?.({ host: o.host, port, url: `http://${o.host}:${port}${o.path}` });
      } catch (err) {
        ctx.logger.error(`node '${ctx.name}': onListening failed: ${errorMessage(err)}`);
      }
    });

    return () => {
      // Stop taking requests; answer the ones still waiting for acks as they settle, then close.
      stopping = true;
      controller.abort();
      maybeClose();
    };
  });
}

/**
 * Source listening for events over HTTP: POST JSON (one event, or one per array element) or
 * NDJSON (one event per line) to `path`. Answers 202 once the events are in the network, or
 * with `respond: 'acked'` only after every event was acked (200) or one was nacked (500).
 * Bodies may be compressed (`content-encoding` gzip, deflate or br; `maxBodySize` bounds the
 * decompressed size too) and in another charset (`content-type: …; charset=iso-8859-1`);
 * JSON sent as `text/plain` or curl's default form type is read as JSON, while other content
 * types (`multipart/form-data`, `application/xml` …), unknown charsets and encodings get 415.
 * Malformed bodies, bodies over `maxBodySize`, bodies that are not valid in their charset and events
 * nested deeper than `maxDepth` get 400 with the reason, a missing or wrong bearer token 401,
 * a client still sending its headers after `headersTimeout` or its body after `bodyTimeout` 408
 * (its socket is closed, freeing its `maxInFlight` slot), and every request once the network is stopping 503 (the server keeps
 * listening, answering 503 with Connection: close, until its events settled). `healthPath` answers
 * 200 while running. The server closes when the network stops.
 *
 * @example
 * ```ts
 * net.add('ingest', connectors.httpSource({ port: 8080, path: '/bets', token: process.env.INGEST_TOKEN }));
 * // curl -H 'authorization: Bearer …' -H 'content-type: application/x-ndjson' --data-binary @bets.ndjson localhost:8080/bets
 * ```
 */
export const httpSource = defineNode({
  name: 'http_source',
  io: 'network',
  role: 'source',
  summary:
    'Listens for JSON or NDJSON POSTs (one event per object); 202 when accepted or 200 once acked; 400/401/408/415/503 with reasons.',
  options: httpSourceOptions,
  positional: ['port'],
  example: "net.add('ingest', connectors.httpSource({ port: 8080, path: '/bets' }));",
  luaExample: 'tb.create_http_source("ingest", 8080)',
  build: (o) => {
    for (const key of ['path', 'healthPath'] as const) {
      if (!o[key].startsWith('/')) {
        throw new TributaryError(
          'BAD_OPTION',
          `node kind 'http_source': option '${key}' must start with '/', got ${JSON.stringify(o[key])}`,
        );
      }
    }
    if (o.path === o.healthPath) {
      throw new TributaryError('BAD_OPTION', `node kind 'http_source': options 'path' and 'healthPath' must differ (both ${o.path})`);
    }
    return { role: 'source', kind: 'http_source', create: (ctx) => httpSourceObservable(ctx, o) };
  },
});
