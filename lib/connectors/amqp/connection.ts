import type { ChannelModel } from 'amqplib';
import { messageOf } from '../errors';
import type { NodeContext } from '../../nodes/types';
import { connectWithRetry, redact } from '../retry';

/**
 * The default AMQP address: `TRIBUTARY_AMQP_URL`, else a local broker with the guest account.
 *
 * @example
 * ```ts
 * defaultAmqpUrl(); // 'amqp://guest:guest@127.0.0.1:5672' when the variable is unset
 * ```
 */
export function defaultAmqpUrl(): string {
  return process.env.TRIBUTARY_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
}

/** The user info of an AMQP URL, split at the last '@' (a password may hold an unencoded '/' or '@'). */
function userInfo(url: string): { scheme: string; user: string; password?: string; rest: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return undefined;
  const at = m[2].lastIndexOf('@');
  if (at < 0) return undefined;
  const info = m[2].slice(0, at);
  const colon = info.indexOf(':');
  return {
    scheme: m[1],
    user: colon < 0 ? info : info.slice(0, colon),
    ...(colon < 0 ? {} : { password: info.slice(colon + 1) }),
    rest: m[2].slice(at + 1),
  };
}

/**
 * An AMQP URL fit for messages: everything between the user name and the last '@' before
 * the host (the password, even one holding an unencoded '/' or '@') replaced by `***`.
 *
 * @example
 * ```ts
 * shownAmqpUrl('amqp://app:s3cret@mq:5672/prod'); // 'amqp://app:***@mq:5672/prod'
 * shownAmqpUrl('amqp://app:s3/cr@t@mq:5672');     // 'amqp://app:***@mq:5672'
 * ```
 */
export function shownAmqpUrl(url: string): string {
  const u = userInfo(url);
  if (!u || u.password === undefined) return url;
  return `${u.scheme}${u.user}:***@${u.rest}`;
}

/**
 * A message (from amqplib, say) with the password of `url` removed, raw or URL-encoded.
 *
 * @example
 * ```ts
 * redactAmqp('amqp://app:pa/ss@mq', 'bad URL amqp://app:pa/ss@mq'); // 'bad URL amqp://app:<redacted>@mq'
 * ```
 */
export function redactAmqp(url: string, text: string): string {
  const password = userInfo(url)?.password;
  if (!password) return text;
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    /* not encoded */
  }
  return redact(text, [...new Set([password, decoded, encodeURIComponent(decoded)])].filter((s) => s.length > 0));
}

/**
 * Connects to an AMQP broker for a node (amqplib loaded here, lazily), retrying with
 * exponential back-off and logging the address (password hidden). Resolves `undefined` if
 * `signal` aborts first.
 *
 * @example
 * ```ts
 * const conn = await amqpConnect(ctx, 'amqp://guest:guest@127.0.0.1:5672', signal);
 * ```
 */
export async function amqpConnect(ctx: NodeContext, url: string, signal: AbortSignal): Promise<ChannelModel | undefined> {
  const amqp = require('amqplib') as typeof import('amqplib');
  const shown = shownAmqpUrl(url);
  const connect = () =>
    amqp.connect(url, { clientProperties: { connection_name: `tributary:${ctx.name}` } }).catch((err: unknown) => {
      // amqplib may quote the URL (or a part of it) in its message.
      throw new Error(redactAmqp(url, messageOf(err)));
    });
  const conn = await connectWithRetry(connect, {
    scheduler: ctx.scheduler,
    logger: ctx.logger,
    who: `node '${ctx.name}'`,
    address: shown,
    backoff: { initial: 250, max: 10_000 },
    signal,
  });
  // An 'error' event without a listener would crash the process; 'close' follows it and is handled by the caller.
  conn?.on('error', (err: Error) => ctx.logger.warn(`node '${ctx.name}': AMQP connection to ${shown}: ${redactAmqp(url, err.message)}`));
  return conn;
}
