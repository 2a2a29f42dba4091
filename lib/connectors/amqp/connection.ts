import { errorMessage } from '../../errors';
import type { ChannelModel } from 'amqplib';
import type { NodeContext } from '../../nodes/types';
import { shownUrl, redactUrlSecrets } from '../../util/redact';
import { connectionFields } from '../fields';
import { connectWithRetry } from '../retry';

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

/** The `url` option of the AMQP connectors. */
export const amqpUrlField = connectionFields.url.describe('broker URL (default TRIBUTARY_AMQP_URL or amqp://guest:guest@127.0.0.1:5672)');

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
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  const amqp = require('amqplib') as typeof import('amqplib');
  const shown = shownUrl(url);
  const connect = () =>
    amqp.connect(url, { clientProperties: { connection_name: `tributary:${ctx.name}` } }).catch((err: unknown) => {
      // amqplib may quote the URL (or a part of it) in its message.
      throw new Error(redactUrlSecrets(url, errorMessage(err)));
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
  conn?.on('error', (err: Error) =>
    ctx.logger.warn(`node '${ctx.name}': AMQP connection to ${shown}: ${redactUrlSecrets(url, err.message)}`),
  );
  return conn;
}
