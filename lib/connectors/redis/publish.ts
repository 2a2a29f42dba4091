import type { Observable } from 'rxjs';
import type { Event } from '../../event';
import type { NodeContext } from '../../nodes/types';
import { errorMessage } from '../../errors';
import { publishingSink } from '../flow';
import { publishWithRetry } from '../retry';
import { closeRedis, isReplyError, redisConnect, type RedisConnectionOptions, type RedisLink } from './connection';

/** An answer from Redis that sending the command again cannot change (WRONGTYPE, a bad argument …). */
class RejectedByRedis extends Error {}

/** Options of {@link redisPublishingSink}. */
export interface RedisPublishOptions {
  /** Connection options of the kind. */
  connection: Partial<RedisConnectionOptions>;
  /** Sends one event's command; resolves with Redis's reply. */
  send: (client: RedisLink['client'], event: Event) => Promise<unknown>;
  /** What is sent where, for messages, from the event: `XADD to stream 'alerts'`. */
  what: (event: Event) => string;
  concurrency: number;
  retries: number;
}

/**
 * The skeleton of both Redis sinks: one connection opened with the first event, each event's
 * command sent (pipelined, `concurrency` at once, order kept) and the event acked after the
 * reply. A connection failure is retried with back-off; an error Redis answered (WRONGTYPE …)
 * nacks at once. Nack reasons name the command, the key and the address, never a password.
 *
 * @example
 * ```ts
 * create: (ctx) => (source) => redisPublishingSink(ctx, source, { connection: o, send, what, concurrency: 64, retries: 3 })
 * ```
 */
export function redisPublishingSink(ctx: NodeContext, source: Observable<Event>, p: RedisPublishOptions): Observable<never> {
  const controller = new AbortController();
  let link: RedisLink | undefined;
  const publish = async (event: Event) => {
    link ??= redisConnect(ctx, p.connection, { role: 'publisher' });
    const l = link;
    const what = `${p.what(event)} at ${l.shown}`;
    await publishWithRetry(
      async () => {
        try {
          await p.send(l.client, event);
        } catch (err) {
          if (isReplyError(err)) throw new RejectedByRedis(`${what}: ${l.clean(errorMessage(err))}`);
          throw err;
        }
      },
      {
        scheduler: ctx.scheduler,
        retries: p.retries,
        signal: controller.signal,
        what,
        clean: (text) => l.clean(text),
        permanent: (err) => err instanceof RejectedByRedis,
      },
    );
  };
  const close = async () => {
    if (link) await closeRedis(ctx, link.client, 5000);
  };
  const cutOff = () => link?.client.disconnect();
  return publishingSink(ctx, source, { publish, concurrency: p.concurrency, close, controller, cutOff });
}
