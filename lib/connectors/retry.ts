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
    return await Promise.race([promise.then(() => true as const, () => true as const), timeout]);
  } finally {
    timer?.unsubscribe();
  }
}
