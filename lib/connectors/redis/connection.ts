import type { Redis, RedisOptions } from 'ioredis';
import { errorMessage } from '../../errors';
import type { NodeContext } from '../../nodes/types';
import type { OutputOf } from '../../nodes/options';
import { redact, shownUrl, urlSecrets } from '../../util/redact';
import { connectionFields } from '../fields';
import { backoffDelay, within } from '../retry';

/**
 * The default Redis address: `TRIBUTARY_REDIS_URL`, else the local default port.
 *
 * @example
 * ```ts
 * defaultRedisUrl(); // 'redis://127.0.0.1:6379' when the variable is unset
 * ```
 */
export function defaultRedisUrl(): string {
  return process.env.TRIBUTARY_REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** The connection options every Redis kind takes, declared once. */
export const redisConnectionOptions = {
  url: connectionFields.url.describe('Redis URL, redis:// or rediss:// (default TRIBUTARY_REDIS_URL or redis://127.0.0.1:6379)'),
  username: connectionFields.username.describe('ACL user name (wins over one in the URL)'),
  password: connectionFields.password.describe('password (wins over one in the URL); never logged'),
  tls: connectionFields.tls.describe('connect over TLS (a rediss:// URL does too)'),
};

/** The resolved connection options of a Redis kind. */
export type RedisConnectionOptions = OutputOf<typeof redisConnectionOptions>;

/** A node's Redis client with what its messages need: the address to show and a secret remover. */
export interface RedisLink {
  readonly client: Redis;
  /** The URL as messages show it (password as `***`). */
  readonly shown: string;
  /** Removes every secret (the password option, the URL's password in any encoding) from a text. */
  clean(text: string): string;
}

/**
 * The ioredis module, loaded on first use so importing Tributary does not load it.
 *
 * @example
 * ```ts
 * const Redis = redisModule().default;
 * ```
 */
export function redisModule(): typeof import('ioredis') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  return require('ioredis') as typeof import('ioredis');
}

/** What `redisConnect` is told about the connection's use. */
export interface RedisConnectOptions {
  /** Shown after the node name in the client name and messages: `reader`, `acks`, `publisher`. */
  role: string;
  /**
   * Fail a command after this many reconnects (ioredis `maxRetriesPerRequest`); `null` keeps
   * commands queued until the connection is back.
   */
  maxRetriesPerRequest?: number | null;
  /** Called each time the connection is ready again after it was lost. */
  onReconnect?: () => void;
}

/**
 * Opens an ioredis client for a node. The first connection and every reconnect wait with
 * exponential back-off (250ms doubling to 10s); each failure is logged with the address and
 * the delay, and every message has the password removed (the `password` option's and the
 * URL's, in any encoding). The client connects in the background: commands queue until it is
 * ready. Close it with {@link closeRedis}.
 *
 * @example
 * ```ts
 * const link = redisConnect(ctx, { url: 'redis://127.0.0.1:6379' }, { role: 'reader', maxRetriesPerRequest: null });
 * await link.client.xadd('bets', '*', 'data', '{}');
 * ```
 */
export function redisConnect(ctx: NodeContext, o: Partial<RedisConnectionOptions>, c: RedisConnectOptions): RedisLink {
  const Redis = redisModule().default;
  const url = o.url ?? defaultRedisUrl();
  const secrets = [o.password, ...urlSecrets(url)];
  if (o.password) secrets.push(encodeURIComponent(o.password));
  const clean = (text: string) => redact(text, secrets);
  const shown = shownUrl(url);
  const who = `node '${ctx.name}'`;
  let lastError = '';
  let everReady = false;
  const options: RedisOptions = {
    connectionName: `tributary:${ctx.name}:${c.role}`.replace(/\s/g, '_'),
    maxRetriesPerRequest: c.maxRetriesPerRequest === undefined ? 20 : c.maxRetriesPerRequest,
    // A socket that does not close after a disconnect is destroyed after this (ioredis waits 2s by default,
    // which keeps a stopped network's process alive that long).
    disconnectTimeout: 500,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.tls ? { tls: {} } : {}),
    retryStrategy: (times: number) => {
      const wait = backoffDelay(times - 1, { initial: 250, max: 10_000 });
      const why = lastError ? `: ${lastError}` : '';
      if (everReady) ctx.logger.warn(`${who}: connection to Redis at ${shown} lost${why}; reconnecting in ${wait}ms`);
      else ctx.logger.warn(`${who}: cannot connect to Redis at ${shown}${why}; retrying in ${wait}ms`);
      lastError = '';
      return wait;
    },
    // An error reply to AUTH or the ready check is worth a reconnect (with back-off), not a dead client.
    reconnectOnError: () => false,
  };
  let client: Redis;
  try {
    client = new Redis(url, options);
  } catch (err) {
    // ioredis may quote the URL in its message.
    throw new Error(`${who}: cannot use Redis URL ${shown}: ${clean(errorMessage(err))}`);
  }
  // An 'error' event without a listener is printed by ioredis; the retry strategy logs the reason.
  client.on('error', (err: Error) => {
    lastError = clean(errorMessage(err));
  });
  client.on('ready', () => {
    if (everReady) {
      ctx.logger.warn(`${who}: reconnected to Redis at ${shown}`);
      c.onReconnect?.();
    }
    everReady = true;
  });
  return { client, shown, clean };
}

/**
 * Closes a client: `QUIT` (sending what is queued first) for at most `timeout` ms, then a hard
 * disconnect. Never throws.
 *
 * @example
 * ```ts
 * await closeRedis(ctx, link.client, 5000);
 * ```
 */
export async function closeRedis(ctx: NodeContext, client: Redis, timeout: number): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') await within(ctx.scheduler, client.quit(), timeout);
  client.disconnect();
}

/** Error replies that say "not now" rather than "never": the server is loading, busy or failing over. */
const TRANSIENT = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/;

/**
 * True for an error Redis itself answered (WRONGTYPE, NOGROUP, ERR …): sending the same command
 * again cannot fix it, unlike a lost connection or a server still loading its data (LOADING,
 * BUSY, TRYAGAIN …, which are worth a retry).
 *
 * @example
 * ```ts
 * isReplyError(err); // true for "WRONGTYPE Operation against a key holding the wrong kind of value"
 * ```
 */
export function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === 'ReplyError' && !TRANSIENT.test(err.message);
}
