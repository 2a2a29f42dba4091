import { errorMessage } from '../../errors';
import type { NatsConnection } from 'nats';
import { redactUrlSecrets, shownUrl } from '../../util/redact';
import type { NodeContext } from '../../nodes/types';
import { connectionFields } from '../fields';
import { connectWithRetry, within } from '../retry';

/**
 * The default NATS address: `TRIBUTARY_NATS_URL`, else the local default port.
 *
 * @example
 * ```ts
 * defaultNatsUrl(); // 'nats://127.0.0.1:4222' when the variable is unset
 * ```
 */
export function defaultNatsUrl(): string {
  return process.env.TRIBUTARY_NATS_URL ?? 'nats://127.0.0.1:4222';
}

/** The `url` option of the NATS connectors. */
export const natsUrlField = connectionFields.url.describe('NATS URL (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)');

/**
 * The nats client module, loaded on first use so importing Tributary does not load it.
 *
 * @example
 * ```ts
 * const { headers } = natsModule();
 * ```
 */
export function natsModule(): typeof import('nats') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  return require('nats') as typeof import('nats');
}

/**
 * Connects to NATS for a node: retries the first connection with exponential back-off
 * (logging the address), lets the client reconnect forever afterwards, and logs
 * disconnects and reconnects with the address. Resolves `undefined` if `signal` aborts first.
 *
 * @example
 * ```ts
 * const nc = await natsConnect(ctx, 'nats://127.0.0.1:4222', signal);
 * ```
 */
export async function natsConnect(ctx: NodeContext, url: string, signal: AbortSignal): Promise<NatsConnection | undefined> {
  const { connect } = natsModule();
  const nc = await connectWithRetry(
    () =>
      connect({
        servers: url,
        name: `tributary:${ctx.name}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        waitOnFirstConnect: false,
      }),
    {
      scheduler: ctx.scheduler,
      logger: ctx.logger,
      who: `node '${ctx.name}'`,
      address: shownUrl(url),
      backoff: { initial: 250, max: 10_000 },
      signal,
    },
  );
  if (!nc) return undefined;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') ctx.logger.warn(`node '${ctx.name}': disconnected from NATS at ${s.data}; reconnecting`);
      else if (s.type === 'reconnect') ctx.logger.warn(`node '${ctx.name}': reconnected to NATS at ${s.data}`);
      else if (s.type === 'error')
        ctx.logger.error(`node '${ctx.name}': NATS at ${shownUrl(url)}: ${redactUrlSecrets(url, errorMessage(s.data))}`);
    }
  })().catch(() => undefined);
  return nc;
}

/**
 * Drains a connection (flushing pending acks and publishes) and falls back to closing it if
 * that fails or takes longer than `timeout` ms.
 *
 * @example
 * ```ts
 * await closeNats(ctx, nc, 5000);
 * ```
 */
export async function closeNats(ctx: NodeContext, nc: NatsConnection, timeout: number): Promise<void> {
  if (nc.isClosed()) return;
  // A failed drain (already draining or closed) counts as done: closing below is enough.
  await within(ctx.scheduler, nc.drain(), timeout);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
