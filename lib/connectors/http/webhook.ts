import { TributaryError } from '../../errors';
import { Observable } from 'rxjs';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { eventOf, sinkStage } from '../../nodes/stage';
import type { SinkNode } from '../../nodes/types';
import { opt, type InputOf } from '../../nodes/options';
import { connectionFields } from '../fields';
import { bodyText, jsonBody, httpSinkCommonOptions, httpSinkWork, type HttpSinkCommonResolved, type HttpTarget } from './deliver';

/** The options of {@link webhook}, declared once: types, validation, defaults and docs come from here. */
export const webhookOptions = {
  url: connectionFields.url.describe('http(s) URL to send to (credentials in it go into an Authorization header, never shown)').require(),
  method: opt.enum(['POST', 'PUT', 'PATCH'] as const, 'HTTP method').withDefault('POST'),
  headers: opt.object<Record<string, string>>('extra request headers (content-type defaults to application/json)'),
  body: opt.fn<(payload: any, event: Event) => unknown>(
    '(payload, event) => body; a string is sent as is, anything else as JSON (default: the payload)',
  ),
  ...httpSinkCommonOptions,
};

/** Options of {@link webhook}. */
export type WebhookOptions = InputOf<typeof webhookOptions>;

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

/** Where an HTTP sink sends; the method defaults to POST, the content type to JSON. */
export type HttpSinkTarget = Pick<HttpTarget, 'url' | 'secrets' | 'display'> & Partial<Pick<HttpTarget, 'method' | 'headers'>>;

/**
 * Builds an HTTP sink node (shared by `webhook`, `slack` and `telegram`): the target gets its
 * timing and retries from the common options, and each event's body comes from `render`.
 * Unsubscribed (stopped, or cut off at the drain timeout), it aborts requests and retries in flight.
 *
 * @example
 * ```ts
 * httpSinkNode('slack', options, { url: href, secrets: [path], display: host }, (e) => JSON.stringify({ text: String(e.payload) }));
 * ```
 */
export function httpSinkNode(kind: string, common: HttpSinkCommonResolved, to: HttpSinkTarget, render: (e: Event) => string): SinkNode {
  const target: HttpTarget = {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...to,
    timeout: common.timeout,
    retries: common.retries,
    backoff: { initial: common.backoff, max: Math.max(common.backoff, common.maxBackoff) },
  };
  return {
    role: 'sink',
    kind,
    create: (ctx) => (source: Observable<Event>) =>
      new Observable<never>((subscriber) => {
        const controller = new AbortController();
        const sub = sinkStage(
          ctx,
          httpSinkWork(ctx, target, common, render, controller.signal),
          common.concurrency,
          eventOf,
        )(source).subscribe(subscriber);
        return () => {
          controller.abort();
          sub.unsubscribe();
        };
      }),
  };
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
export const webhook = defineNode({
  name: 'webhook',
  io: 'network',
  role: 'sink',
  summary: 'POSTs each event as JSON to a URL; acks after a 2xx, retries with back-off, dead-letters when retries run out.',
  options: webhookOptions,
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
        throw new TributaryError(
          'BAD_OPTION',
          "node kind 'webhook': option 'url' holds credentials and option 'headers' an authorization header; give one of them",
        );
      }
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      const basic = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
      headers.authorization = `Basic ${basic}`;
      secrets.push(...[password, basic].filter((s) => s.length > 0));
      url.username = '';
      url.password = '';
    }
    const target = { url: url.href, method: o.method, headers, secrets, display: `${url.protocol}//${url.host}${url.pathname}` };
    const make = o.body;
    return httpSinkNode('webhook', o, target, (e) => (make ? bodyText(make(e.payload, e)) : jsonBody(e.payload)));
  },
});
