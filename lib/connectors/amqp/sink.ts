import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type { Observable } from 'rxjs';
import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { redactUrlSecrets, shownUrl } from '../../util/redact';
import { encodePayload } from '../codec';
import { deliveryFields } from '../fields';
import { publishingSink } from '../flow';
import { publishWithRetry } from '../retry';
import { amqpConnect, amqpUrlField, defaultAmqpUrl } from './connection';

/** A publish the broker will never take (unroutable): not retried. */
class PermanentPublishError extends Error {}

/** The options of {@link amqpSink}, declared once: types, validation, defaults and docs come from here. */
export const amqpSinkOptions = {
  exchange: opt.string('exchange to publish to ("" = default exchange, routes by queue name)').withDefault(''),
  exchangeType: opt.enum(['direct', 'topic', 'fanout', 'headers'] as const, 'declare the (durable) exchange with this type if missing'),
  routingKey: opt.string('fixed routing key'),
  routingKeyFn: opt.fn<(payload: any, event: Event) => string>('(payload, event) => routing key; wins over routingKey'),
  url: amqpUrlField,
  persistent: opt.boolean('persistent messages').withDefault(true),
  codec: deliveryFields.codec,
  concurrency: deliveryFields.concurrency.describe('publishes awaiting their confirm at once'),
  retries: deliveryFields.retries.describe('retries of an unconfirmed publish, with back-off from 250ms'),
};

/** Options of {@link amqpSink}. */
export type AmqpSinkOptions = InputOf<typeof amqpSinkOptions>;

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
export const amqpSink = defineNode({
  name: 'amqp_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to a RabbitMQ exchange with a routing key; acks after the publisher confirm.',
  options: amqpSinkOptions,
  positional: ['exchange', 'routingKey'],
  example: "net.add('alerts_out', connectors.amqpSink({ exchange: 'alerts', exchangeType: 'topic', routingKey: 'liability' }));",
  luaExample: 'tb.create_amqp_sink("alerts_out", "alerts", "liability")',
  build: (o) => {
    if (o.routingKey === undefined && o.routingKeyFn === undefined) {
      throw new TributaryError(
        'BAD_OPTION',
        "node kind 'amqp_sink': give option 'routingKey' or 'routingKeyFn' (with the default exchange, the queue name)",
      );
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
          ch.on('error', (err: Error) =>
            ctx.logger.warn(`node '${ctx.name}': AMQP channel at ${shown}: ${redactUrlSecrets(url, err.message)}`),
          );
          ch.on('close', () => {
            if (channel === mine) channel = undefined; // reopened on the next publish
          });
          ch.on('return', (m: Message) => {
            const id = m.properties.messageId as string | undefined;
            if (id !== undefined && returned.has(id))
              returned.set(id, `${(m.fields as { replyCode?: number }).replyCode} ${(m.fields as { replyText?: string }).replyText}`);
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
                {
                  persistent: o.persistent,
                  mandatory: true,
                  messageId,
                  contentType: o.codec === 'json' ? 'application/json' : undefined,
                  ...(headers ? { headers } : {}),
                },
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
          const headers = h
            ? Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith('amqp-') && k !== 'nats-subject'))
            : undefined;
          const hs = headers && Object.keys(headers).length ? headers : undefined;
          await publishWithRetry(() => publishOnce(key, content, hs), {
            scheduler: ctx.scheduler,
            retries: o.retries,
            signal: controller.signal,
            what: `publish to exchange '${o.exchange}' with routing key '${key}' at ${shown}`,
            clean: (text) => redactUrlSecrets(url, text),
            permanent: (err) => err instanceof PermanentPublishError,
          });
        };
        const close = async () => {
          const ch = await channel?.catch(() => undefined);
          if (ch) await ch.waitForConfirms().catch(() => undefined);
          await conn?.close().catch(() => undefined);
        };
        const cutOff = () => void conn?.close().catch(() => undefined);
        return publishingSink(ctx, source, { publish, concurrency: o.concurrency, close, controller, cutOff });
      },
    };
  },
});
