import { errorMessage } from '../../errors';
import type { SchedulerLike } from 'rxjs';
import type { Event } from '../../event';
import type { NodeContext } from '../../nodes/types';
import { opt, type OutputOf } from '../../nodes/options';
import { redact } from '../../util/redact';
import { deliveryFields } from '../fields';
import { backoffDelay, sleep, type Backoff } from '../retry';

/** Where and how an HTTP sink sends: the shared core of `webhook`, `slack` and `telegram`. */
export interface HttpTarget {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Per-attempt timeout in ms. */
  timeout: number;
  /** Retries after the first attempt. */
  retries: number;
  backoff: Backoff;
  /** Strings that must never appear in a message (a bot token, a webhook secret). */
  secrets: readonly string[];
  /** The URL as messages show it (secrets already removed). */
  display: string;
}

/**
 * Why an HTTP delivery failed for good: the status (when the server answered), how many
 * attempts were made, and the target as it may be shown. Its message never holds a secret.
 *
 * @example
 * ```ts
 * if (reason instanceof HttpDeliveryError && reason.permanent) console.log(`refused with ${reason.status}`);
 * ```
 */
export class HttpDeliveryError extends Error {
  override readonly name = 'HttpDeliveryError';
  constructor(
    message: string,
    /** The last status, when the server answered. */
    readonly status: number | undefined,
    readonly attempts: number,
    /** The target URL with secrets removed. */
    readonly url: string,
    /** True when the server refused the request (4xx other than 408/425/429): retrying would not help. */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const RETRYABLE_4XX = new Set([408, 425, 429]);

/**
 * Sends one request body with a per-attempt timeout and exponential back-off between
 * attempts (timers from the scheduler). Resolves on a 2xx; retries network errors, timeouts,
 * 408/425/429 and 5xx; gives up at once on other 4xx and on any 3xx (redirects are not
 * followed: the message names the Location). When `signal` aborts (the sink was cut off),
 * the request in flight is aborted and no retry follows. Throws {@link HttpDeliveryError}.
 *
 * @example
 * ```ts
 * await deliverHttp(ctx.scheduler, target, JSON.stringify(payload));
 * ```
 */
export async function deliverHttp(
  scheduler: SchedulerLike,
  target: HttpTarget,
  body: string,
  onRetry?: (message: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const clean = (s: string) => redact(s, target.secrets);
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(scheduler, target, body, signal);
    if (outcome.ok) return;
    if (signal?.aborted) throw new Error(clean(`${target.method} ${target.display}: given up, the sink was stopped`));
    const attempts = attempt + 1;
    const message = clean(`${target.method} ${target.display}: ${outcome.reason}`);
    if (outcome.permanent || attempt >= target.retries) {
      const suffix = outcome.permanent
        ? ' (not retried: the server refused the request)'
        : ` (gave up after ${attempts} attempt${attempts > 1 ? 's' : ''})`;
      throw new HttpDeliveryError(message + suffix, outcome.status, attempts, target.display, outcome.permanent);
    }
    let wait = backoffDelay(attempt, target.backoff);
    if (outcome.retryAfter !== undefined) wait = Math.min(target.backoff.max, Math.max(wait, outcome.retryAfter));
    onRetry?.(`${message}; retry ${attempts}/${target.retries} in ${wait}ms`);
    await sleep(scheduler, wait, signal);
    if (signal?.aborted) throw new Error(clean(`${target.method} ${target.display}: given up, the sink was stopped`));
  }
}

type Outcome = { ok: true } | { ok: false; reason: string; status?: number; permanent: boolean; retryAfter?: number };

async function attemptOnce(scheduler: SchedulerLike, target: HttpTarget, body: string, signal?: AbortSignal): Promise<Outcome> {
  if (signal?.aborted) return { ok: false, permanent: true, reason: 'the sink was stopped' };
  const controller = new AbortController();
  let timedOut = false;
  const timer = scheduler.schedule(() => {
    timedOut = true;
    controller.abort();
  }, target.timeout);
  const stop = () => controller.abort();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    // Redirects are not followed: fetch would turn a 301/302/303 into a GET without the body,
    // and its 2xx would ack an event that was never delivered.
    const res = await fetch(target.url, {
      method: target.method,
      headers: target.headers,
      body,
      signal: controller.signal,
      redirect: 'manual',
    });
    // Read the body so the connection is reused, and keep a snippet for the error message.
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return { ok: true };
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      return {
        ok: false,
        status: res.status,
        permanent: true,
        reason: `HTTP ${res.status} redirect to ${location ?? '(no Location)'}; redirects are not followed (point the sink at the final URL)`,
      };
    }
    const snippet = text.length > 200 ? text.slice(0, 200) + '…' : text;
    const permanent = res.status >= 400 && res.status < 500 && !RETRYABLE_4XX.has(res.status);
    const retryAfterHeader = Number(res.headers.get('retry-after'));
    return {
      ok: false,
      status: res.status,
      permanent,
      reason: `HTTP ${res.status}${snippet ? `: ${snippet.replace(/\s+/g, ' ')}` : ''}`,
      ...(Number.isFinite(retryAfterHeader) && retryAfterHeader > 0 ? { retryAfter: retryAfterHeader * 1000 } : {}),
    };
  } catch (err) {
    if (timedOut) return { ok: false, permanent: false, reason: `no answer within ${target.timeout}ms` };
    const cause = (err as { cause?: unknown }).cause;
    const detail = cause ? errorMessage(cause) : errorMessage(err);
    return { ok: false, permanent: false, reason: `request failed: ${detail}` };
  } finally {
    timer.unsubscribe();
    signal?.removeEventListener('abort', stop);
  }
}

/** What a dead-letter function gets when an HTTP sink gives up on an event. */
export interface HttpDeadLetter {
  event: Event;
  /** The failure (its message holds no secret). */
  error: HttpDeliveryError;
}

/**
 * The options every HTTP sink shares (timing, retries, dead-lettering), spread into the
 * schemas of `webhook`, `slack` and `telegram`.
 *
 * @example
 * ```ts
 * const options = { url: opt.string('where to send').require(), ...httpSinkCommonOptions };
 * ```
 */
export const httpSinkCommonOptions = {
  timeout: opt.timer('per-attempt timeout', { min: 1 }).withDefault('10s'),
  retries: deliveryFields.retries.describe('retries after the first attempt (network errors, timeouts, 408/425/429, 5xx)'),
  backoff: opt.timer('first back-off delay; doubles per retry', { min: 0 }).withDefault('500ms'),
  maxBackoff: opt.timer('largest back-off delay (also caps Retry-After)', { min: 0 }).withDefault('30s'),
  concurrency: deliveryFields.concurrency.describe('requests in flight at once (1 keeps order)').withDefault(1),
  deadLetter: opt.fn<(letter: HttpDeadLetter) => unknown>(
    '({ event, error }) => unknown, called when an event fails for good; the event is acked once it resolves. Without it the event is nacked with the error',
  ),
};

/** The resolved form of {@link httpSinkCommonOptions}: durations in ms, defaults filled. */
export type HttpSinkCommonResolved = OutputOf<typeof httpSinkCommonOptions>;

/**
 * The per-event work of an HTTP sink: deliver, and on final failure hand the event to the
 * dead-letter function or throw (the sink stage then nacks it with the error).
 *
 * @example
 * ```ts
 * sinkStage(ctx, httpSinkWork(ctx, target, options, (e) => JSON.stringify(e.payload)), 1, eventOf);
 * ```
 */
export function httpSinkWork(
  ctx: NodeContext,
  target: HttpTarget,
  common: HttpSinkCommonResolved,
  render: (event: Event) => string,
  signal?: AbortSignal,
): (event: Event) => Promise<void> {
  return async (event) => {
    let body: string;
    try {
      body = render(event);
    } catch (err) {
      throw new Error(redact(`cannot render the request body: ${errorMessage(err)}`, target.secrets));
    }
    try {
      await deliverHttp(ctx.scheduler, target, body, (m) => ctx.logger.warn(`node '${ctx.name}': ${m}`), signal);
    } catch (err) {
      if (!(err instanceof HttpDeliveryError) || !common.deadLetter) throw err;
      await common.deadLetter({ event, error: err });
      ctx.logger.warn(`node '${ctx.name}': event ${event.meta.id} dead-lettered: ${err.message}`);
    }
  };
}

/**
 * JSON text of a value; strings pass as they are (for body templates).
 *
 * @example
 * ```ts
 * bodyText('a=1');     // 'a=1'
 * bodyText({ a: 1 });  // '{"a":1}'
 * ```
 */
export function bodyText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  const text = JSON.stringify(value);
  if (text === undefined) throw new Error(`cannot send a ${typeof value} as JSON`);
  return text;
}

/**
 * A payload as a JSON body; bytes are sent as they are.
 *
 * @example
 * ```ts
 * jsonBody('hi'); // '"hi"'
 * ```
 */
export function jsonBody(payload: unknown): string {
  if (payload instanceof Uint8Array) return new TextDecoder().decode(payload);
  const text = JSON.stringify(payload);
  if (text === undefined) throw new Error(`cannot send a ${typeof payload} as JSON`);
  return text;
}
