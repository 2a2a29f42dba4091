import { TributaryError } from '../../errors';
import { Observable } from 'rxjs';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { eventOf, sinkStage } from '../../nodes/stage';
import type { SinkNode } from '../../nodes/types';
import {
  bodyText,
  jsonBody,
  httpSinkCommonOptions,
  httpSinkWork,
  type HttpSinkCommon,
  type HttpSinkCommonResolved,
  type HttpTarget,
} from './deliver';

/** Options of {@link webhook}. */
export interface WebhookOptions extends HttpSinkCommon {
  /** Where to send, `http://` or `https://`. */
  url: string;
  /** `POST` (default), `PUT` or `PATCH`. */
  method?: 'POST' | 'PUT' | 'PATCH';
  /** Extra request headers; `content-type` defaults to `application/json`. */
  headers?: Record<string, string>;
  /** Builds the body from the payload: a string is sent as is, anything else as JSON. Default: the payload as JSON. */
  body?: (payload: any, event: Event) => unknown;
}

export interface Resolved extends HttpSinkCommonResolved {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: (payload: unknown, event: Event) => unknown;
}

/**
 * Checks a URL option and returns it parsed; a bad one is an error naming the node kind and
 * option (showing `shown` instead of the value when the value is a secret).
 *
 * @example
 * ```ts
 * parseHttpUrl('webhook', 'url', 'http://127.0.0.1:8080/hook').port; // '8080'
 * ```
 */
export function parseHttpUrl(kind: string, option: string, value: string, shown = value): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TributaryError('BAD_OPTION', `node kind '${kind}': option '${option}' must be an http(s) URL, got ${JSON.stringify(shown)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TributaryError('BAD_OPTION', `node kind '${kind}': option '${option}' must be an http(s) URL, got ${JSON.stringify(shown)}`);
  }
  return url;
}

/**
 * Builds an HTTP sink node from a target and a body renderer (shared by the presets).
 *
 * @example
 * ```ts
 * httpSinkNode('webhook', target, options, (e) => JSON.stringify(e.payload));
 * ```
 */
export function httpSinkNode(kind: string, target: HttpTarget, common: HttpSinkCommonResolved, render: (e: Event) => string): SinkNode {
  return {
    role: 'sink',
    kind,
    // Unsubscribed (stopped, or cut off at the drain timeout): abort requests and retries in flight.
    create: (ctx) => (source: Observable<Event>) =>
      new Observable<never>((subscriber) => {
        const controller = new AbortController();
        const sub = sinkStage(ctx, httpSinkWork(ctx, target, common, render, controller.signal), common.concurrency, eventOf)(source).subscribe(subscriber);
        return () => {
          controller.abort();
          sub.unsubscribe();
        };
      }),
  };
}

/**
 * The parts of the resolved common options a target needs.
 *
 * @example
 * ```ts
 * targetTiming({ timeout: 10000, retries: 3, backoff: 500, maxBackoff: 30000, concurrency: 1 }).backoff; // { initial: 500, max: 30000 }
 * ```
 */
export function targetTiming(o: HttpSinkCommonResolved): Pick<HttpTarget, 'timeout' | 'retries' | 'backoff'> {
  return { timeout: o.timeout, retries: o.retries, backoff: { initial: o.backoff, max: Math.max(o.backoff, o.maxBackoff) } };
}

/**
 * Sink sending each event to an HTTP endpoint (JSON body by default) and acking it only
 * after a 2xx. Network errors, timeouts, 408/425/429 and 5xx are retried with exponential
 * back-off (timers from the network's scheduler); when retries run out, or on another 4xx,
 * the event goes to `deadLetter` if given, otherwise it is nacked with the reason (route it
 * with the source's dead-lettering, e.g. a NATS `maxDeliver` or an AMQP dead-letter exchange).
 * Error messages show the URL without its query string. Credentials in the URL
 * (`https://user:pass@host/hook`) are sent as an `Authorization: Basic` header and never shown.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.webhook({
 *   url: 'https://alerts.example.com/hook',
 *   headers: { authorization: `Bearer ${process.env.HOOK_TOKEN}` },
 *   body: (alert) => ({ severity: 'high', alert }),
 *   retries: 5, timeout: '5s',
 * }));
 * ```
 */
export const webhook = defineNode<WebhookOptions, Resolved>({
  name: 'webhook',
  io: 'network',
  role: 'sink',
  summary: 'POSTs each event as JSON to a URL; acks after a 2xx, retries with back-off, dead-letters when retries run out.',
  options: {
    url: { type: 'string', required: true, description: 'http(s) URL to send to' },
    method: { type: 'string', enum: ['POST', 'PUT', 'PATCH'], default: 'POST', description: 'HTTP method' },
    headers: { type: 'object', description: 'extra request headers (content-type defaults to application/json)' },
    body: { type: 'function', description: '(payload, event) => body; a string is sent as is, anything else as JSON (default: the payload)' },
    ...httpSinkCommonOptions,
  },
  positional: ['url'],
  example: "net.add('alerts_out', connectors.webhook({ url: 'http://127.0.0.1:8080/alerts', retries: 5, timeout: '5s' }));",
  luaExample: 'tb.create_webhook("alerts_out", "http://127.0.0.1:8080/alerts")',
  build: (o) => {
    const url = parseHttpUrl('webhook', 'url', o.url);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      if (typeof v !== 'string') {
        throw new TributaryError('BAD_OPTION', `node kind 'webhook': header '${k}' must be a string, got ${typeof v}`);
      }
      headers[k.toLowerCase()] = v;
    }
    const secrets = [url.search, url.password].filter((s) => s.length > 1);
    if (url.username || url.password) {
      // fetch refuses URLs with credentials: send them as an Authorization: Basic header instead.
      if (headers.authorization !== undefined) {
        throw new TributaryError('BAD_OPTION', "node kind 'webhook': option 'url' holds credentials and option 'headers' an authorization header; give one of them");
      }
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      const basic = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
      headers.authorization = `Basic ${basic}`;
      secrets.push(...[password, basic].filter((s) => s.length > 0));
      url.username = '';
      url.password = '';
    }
    const target: HttpTarget = {
      url: url.href,
      method: o.method,
      headers,
      ...targetTiming(o),
      secrets,
      display: `${url.protocol}//${url.host}${url.pathname}`,
    };
    const make = o.body;
    return httpSinkNode('webhook', target, o, (e) => (make ? bodyText(make(e.payload, e)) : jsonBody(e.payload)));
  },
});
