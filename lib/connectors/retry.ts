import { errorMessage } from '../errors';
import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../nodes/types';

/** Exponential back-off settings: the first delay, the cap, and the growth factor. */
export interface Backoff {
  /** First delay in ms. */
  initial: number;
  /** Largest delay in ms. */
  max: number;
  /** Growth per attempt (default 2). */
  factor?: number;
}

/**
 * The delay before retry number `attempt` (0-based): `initial * factor^attempt`, capped at `max`.
 *
 * @example
 * ```ts
 * backoffDelay(0, { initial: 100, max: 1000 }); // 100
 * backoffDelay(3, { initial: 100, max: 1000 }); // 800
 * backoffDelay(9, { initial: 100, max: 1000 }); // 1000
 * ```
 */
export function backoffDelay(attempt: number, b: Backoff): number {
  return Math.min(b.max, b.initial * Math.pow(b.factor ?? 2, attempt));
}

/**
 * Waits `ms` on the scheduler (so virtual time applies); resolves early, without error, when
 * `signal` aborts.
 *
 * @example
 * ```ts
 * await sleep(ctx.scheduler, 500);
 * ```
 */
export function sleep(scheduler: SchedulerLike, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      sub.unsubscribe();
      resolve();
    };
    const sub = scheduler.schedule(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Options of {@link connectWithRetry}. */
export interface ConnectRetryOptions {
  scheduler: SchedulerLike;
  logger: Logger;
  /** What is connecting, for messages: `node 'in'`. */
  who: string;
  /** Where it connects, for messages: `nats://127.0.0.1:4222`. */
  address: string;
  backoff: Backoff;
  /** Stops retrying when aborted (the network is stopping). */
  signal: AbortSignal;
}

/**
 * Calls `connect` until it succeeds, waiting with exponential back-off between attempts and
 * logging each failure with the address. Resolves `undefined` when `signal` aborts first.
 *
 * @example
 * ```ts
 * const nc = await connectWithRetry(() => connect({ servers: url }), {
 *   scheduler: ctx.scheduler, logger: ctx.logger, who: `node '${ctx.name}'`, address: url,
 *   backoff: { initial: 250, max: 10_000 }, signal,
 * });
 * ```
 */
export async function connectWithRetry<T>(connect: () => Promise<T>, o: ConnectRetryOptions): Promise<T | undefined> {
  for (let attempt = 0; !o.signal.aborted; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (o.signal.aborted) return undefined;
      const wait = backoffDelay(attempt, o.backoff);
      o.logger.warn(`${o.who}: cannot connect to ${o.address}: ${errorMessage(err)}; retrying in ${wait}ms`);
      await sleep(o.scheduler, wait, o.signal);
    }
  }
  return undefined;
}

/**
 * Waits for `promise` at most `ms` on the scheduler; resolves `true` if it settled in time,
 * `false` otherwise. The timer is cancelled either way, so nothing keeps the process alive.
 *
 * @example
 * ```ts
 * if (!(await within(ctx.scheduler, io.settled(), 5000))) ctx.logger.warn('still in flight');
 * ```
 */
export async function within(scheduler: SchedulerLike, promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: { unsubscribe(): void } | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = scheduler.schedule(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true as const,
        () => true as const,
      ),
      timeout,
    ]);
  } finally {
    timer?.unsubscribe();
  }
}

/** Options of {@link publishWithRetry}. */
export interface PublishRetryOptions {
  scheduler: SchedulerLike;
  /** Retries after the first attempt. */
  retries: number;
  /** Aborted when the sink is cut off: no more retries then. */
  signal: AbortSignal;
  /** What is published where, for messages: `JetStream publish to 'alerts' at nats://…`. */
  what: string;
  /** Removes secrets from a client library's message. */
  clean?: (text: string) => string;
  /** A failure retrying cannot fix: thrown as it is, at once. */
  permanent?: (err: unknown) => boolean;
}

/**
 * Runs one publish, retrying failures with exponential back-off from 250ms (capped at 10s,
 * timers from the scheduler) until `retries` run out or the sink is cut off; then throws an
 * error naming `what`, the attempts and the last reason.
 *
 * @example
 * ```ts
 * await publishWithRetry(() => js.publish(subject, data), {
 *   scheduler: ctx.scheduler, retries: 3, signal, what: `JetStream publish to '${subject}' at ${url}`,
 * });
 * ```
 */
export async function publishWithRetry(publish: () => Promise<unknown>, o: PublishRetryOptions): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await publish();
      return;
    } catch (err) {
      if (o.permanent?.(err)) throw err;
      if (attempt >= o.retries || o.signal.aborted) {
        const reason = errorMessage(err);
        throw new Error(`${o.what} failed after ${attempt + 1} attempt(s): ${o.clean ? o.clean(reason) : reason}`);
      }
      await sleep(o.scheduler, backoffDelay(attempt, { initial: 250, max: 10_000 }), o.signal);
      // Cut off (stop at the drain timeout) while waiting: no more retries.
      if (o.signal.aborted) throw new Error(`${o.what}: given up, the sink was stopped`);
    }
  }
}
