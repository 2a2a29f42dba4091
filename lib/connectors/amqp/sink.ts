import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { Observable, concat, defer, ignoreElements } from 'rxjs';
import { errorMessage, TributaryError } from '../../errors';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { eventOf, sinkStage } from '../../nodes/stage';
import { CODECS, encodePayload, type Codec } from '../codec';
import { backoffDelay, sleep } from '../retry';
import { amqpConnect, defaultAmqpUrl } from './connection';
import { redactUrlSecrets, shownUrl } from '../../util/redact';

/** A publish the broker will never take (unroutable): not retried. */
class PermanentPublishError extends Error {}

/** Options of {@link amqpSink}. */
export interface AmqpSinkOptions {
  /** Exchange to publish to; `""` (default) is the default exchange, which routes by queue name. */
  exchange?: string;
  /** Declare the exchange with this type if missing (`direct`, `topic`, `fanout`, `headers`); default: do not declare. */
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers';
  /** Fixed routing key. */
  routingKey?: string;
  /** Routing key per event; wins over `routingKey`. */
  routingKeyFn?: (payload: any, event: Event) => string;
  /** Broker URL (default `TRIBUTARY_AMQP_URL`, else `amqp://guest:guest@127.0.0.1:5672`). */
  url?: string;
  /** Persistent messages (default true). */
  persistent?: boolean;
  /** Payload encoding: `json` (default), `string` or `bytes`. */
  codec?: Codec;
  /** Publishes awaiting their confirm at once (default 64); order on the wire is kept. */
  concurrency?: number;
  /** Retries of a publish that was not confirmed (a lost connection), with back-off from 250ms (default 3). */
  retries?: number;
}

/** Resolved options of {@link amqpSink}. */
export interface AmqpSinkResolved {
  exchange: string;
  exchangeType?: 'direct' | 'topic' | 'fanout' | 'headers';
  routingKey?: string;
  routingKeyFn?: (payload: unknown, event: Event) => string;
  url?: string;
  persistent: boolean;
  codec: Codec;
  concurrency: number;
  retries: number;
}

/**
 * Sink publishing each event to a RabbitMQ exchange on a confirm channel: the event is acked
 * only once the broker confirmed the publish, retried with back-off over a reconnect, and
 * nacked with the reason (exchange, routing key, address) when retries run out. Messages are
 * published `mandatory`: one no queue is bound for is returned by the broker and its event
 * nacked at once ("unroutable: exchange X, key Y"), never acked. Event headers
 * become message headers. The connection closes once the sink's work is done.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.amqpSink({ exchange: 'alerts', exchangeType: 'topic', routingKeyFn: (a) => `liability.${a.customer}` }));
 * ```
 */
export const amqpSink = defineNode<AmqpSinkOptions, AmqpSinkResolved>({
  name: 'amqp_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to a RabbitMQ exchange with a routing key; acks after the publisher confirm.',
  options: {
    exchange: { type: 'string', default: '', description: 'exchange to publish to ("" = default exchange, routes by queue name)' },
    exchangeType: { type: 'string', enum: ['direct', 'topic', 'fanout', 'headers'], description: 'declare the (durable) exchange with this type if missing' },
    routingKey: { type: 'string', description: 'fixed routing key' },
    routingKeyFn: { type: 'function', description: '(payload, event) => routing key; wins over routingKey' },
    url: { type: 'string', description: 'broker URL (default TRIBUTARY_AMQP_URL or amqp://guest:guest@127.0.0.1:5672)' },
    persistent: { type: 'boolean', default: true, description: 'persistent messages' },
    codec: { type: 'string', enum: [...CODECS], default: 'json', description: 'payload encoding: json, string or bytes' },
    concurrency: { type: 'integer', min: 1, default: 64, description: 'publishes awaiting their confirm at once' },
    retries: { type: 'integer', min: 0, default: 3, description: 'retries of an unconfirmed publish, with back-off from 250ms' },
  },
  positional: ['exchange', 'routingKey'],
  example: "net.add('alerts_out', connectors.amqpSink({ exchange: 'alerts', exchangeType: 'topic', routingKey: 'liability' }));",
  luaExample: 'tb.create_amqp_sink("alerts_out", "alerts", "liability")',
  build: (o) => {
    if (o.routingKey === undefined && o.routingKeyFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'amqp_sink': give option 'routingKey' or 'routingKeyFn' (with the default exchange, the queue name)");
    }
    if (o.exchange === '' && o.exchangeType !== undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'amqp_sink': option 'exchangeType' needs a named 'exchange'");
    }
    return {
      role: 'sink',
      kind: 'amqp_sink',
      create: (ctx) => (source: Observable<Event>) => {
        const url = o.url ?? defaultAmqpUrl();
        const shown = shownUrl(url);
        const controller = new AbortController();
        let conn: ChannelModel | undefined;
        let channel: Promise<ConfirmChannel | undefined> | undefined;
        // Publishes awaiting their confirm, by message id: a 'return' (unroutable, published
        // mandatory) arrives before the confirm and marks the publish as failed for good.
        const returned = new Map<string, string | undefined>();
        // The live connection; cleared when it closes. A channel error (say, a missing exchange)
        // closes only the channel: the next publish opens a new channel on the same connection.
        let live: ChannelModel | undefined;
        const connect = async (): Promise<ChannelModel | undefined> => {
          if (live) return live;
          if (conn) await conn.close().catch(() => undefined); // closed already, normally: make sure
          conn = await amqpConnect(ctx, url, controller.signal);
          if (!conn) return undefined;
          const c = conn;
          live = c;
          c.once('close', () => {
            if (live === c) live = undefined;
            if (conn === c) channel = undefined; // reconnect on the next publish
          });
          return c;
        };
        const open = async (): Promise<ConfirmChannel | undefined> => {
          const c = await connect();
          if (!c) return undefined;
          const ch = await c.createConfirmChannel();
          const mine = channel;
          ch.on('error', (err: Error) => ctx.logger.warn(`node '${ctx.name}': AMQP channel at ${shown}: ${redactUrlSecrets(url, err.message)}`));
          ch.on('close', () => {
            if (channel === mine) channel = undefined; // reopened on the next publish
          });
          ch.on('return', (m: Message) => {
            const id = m.properties.messageId as string | undefined;
            if (id !== undefined && returned.has(id)) returned.set(id, `${(m.fields as { replyCode?: number }).replyCode} ${(m.fields as { replyText?: string }).replyText}`);
          });
          if (o.exchangeType) await ch.assertExchange(o.exchange, o.exchangeType, { durable: true });
          return ch;
        };
        const publishOnce = async (key: string, content: Buffer, headers: Record<string, string> | undefined) => {
          channel ??= open().catch((err) => {
            channel = undefined;
            throw err;
          });
          const ch = await channel;
          if (!ch) throw new Error(`not connected to ${shown}`);
          const messageId = randomUUID();
          returned.set(messageId, undefined);
          try {
            await new Promise<void>((resolve, reject) => {
              ch.publish(
                o.exchange,
                key,
                content,
                { persistent: o.persistent, mandatory: true, messageId, contentType: o.codec === 'json' ? 'application/json' : undefined, ...(headers ? { headers } : {}) },
                (err) => (err ? reject(err instanceof Error ? err : new Error(String(err ?? 'nack from broker'))) : resolve()),
              );
            });
            const why = returned.get(messageId);
            if (why !== undefined) {
              throw new PermanentPublishError(`unroutable: exchange '${o.exchange}', key '${key}' (${why}) at ${shown}`);
            }
          } finally {
            returned.delete(messageId);
          }
        };
        const publish = async (event: Event) => {
          const key = o.routingKeyFn ? o.routingKeyFn(event.payload, event) : o.routingKey!;
          if (typeof key !== 'string') throw new Error(`routingKeyFn returned ${JSON.stringify(key)}, not a string`);
          const content = Buffer.from(encodePayload(event.payload, o.codec));
          const h = event.meta.headers;
          const headers = h ? Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('amqp-') && k !== 'nats-subject')) : undefined;
          for (let attempt = 0; ; attempt++) {
            try {
              await publishOnce(key, content, headers && Object.keys(headers).length ? headers : undefined);
              return;
            } catch (err) {
              if (err instanceof PermanentPublishError) throw err;
              if (attempt >= o.retries || controller.signal.aborted) {
                throw new Error(`publish to exchange '${o.exchange}' with routing key '${key}' at ${shown} failed after ${attempt + 1} attempt(s): ${redactUrlSecrets(url, errorMessage(err))}`);
              }
              // Cut off (stop at the drain timeout): no more retries.
              await sleep(ctx.scheduler, backoffDelay(attempt, { initial: 250, max: 10_000 }), controller.signal);
              if (controller.signal.aborted) throw new Error(`publish to exchange '${o.exchange}' with routing key '${key}' at ${shown}: given up, the sink was stopped`);
            }
          }
        };
        const close = defer(async () => {
          const ch = await channel?.catch(() => undefined);
          if (ch) await ch.waitForConfirms().catch(() => undefined);
          await conn?.close().catch(() => undefined);
        }).pipe(ignoreElements());
        const stage = sinkStage(ctx, (e: Event) => publish(e), o.concurrency, eventOf)(source);
        return new Observable<never>((subscriber) => {
          const sub = concat(stage, close).subscribe(subscriber);
          return () => {
            controller.abort();
            sub.unsubscribe();
            void conn?.close().catch(() => undefined);
          };
        });
      },
    };
  },
});
