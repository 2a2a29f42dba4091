import type { Channel, ConsumeMessage } from 'amqplib';
import { errorMessage, TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import type { NodeContext } from '../../nodes/types';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { deliveryFields } from '../fields';
import { emitMessage, flowSource, type FlowIO } from '../flow';
import { backoffDelay, sleep, within } from '../retry';
import { amqpConnect, amqpUrlField, defaultAmqpUrl } from './connection';
import { redactUrlSecrets, shownUrl } from '../../util/redact';

/** The options of {@link amqpSource}, declared once: types, validation, defaults and docs come from here. */
export const amqpSourceOptions = {
  queue: opt.string('queue to consume').require(),
  url: amqpUrlField,
  prefetch: deliveryFields.maxInFlight.describe('unacked messages at once: the cap on events in flight').withDefault(100),
  assertQueue: opt.boolean('declare the (durable) queue if missing').withDefault(true),
  deadLetterExchange: opt.string('dead-letter exchange set when the queue is declared'),
  requeue: opt.boolean('on nack, requeue (true) or reject to the dead-letter exchange (false)').withDefault(true),
  bindExchange: opt.string('bind the queue to this exchange when declaring it'),
  bindKey: opt.string('routing key (pattern) of that binding').withDefault('#'),
  codec: deliveryFields.codec.describe(
    'payload decoding: json, string or bytes (a message that fails to decode becomes an error event; nacked, it is rejected without requeue)',
  ),
  closeTimeout: deliveryFields.closeTimeout,
};

/** Options of {@link amqpSource}. */
export type AmqpSourceOptions = InputOf<typeof amqpSourceOptions>;
type Resolved = OutputOf<typeof amqpSourceOptions>;

function headersOf(m: ConsumeMessage): Record<string, string> {
  const out: Record<string, string> = { 'amqp-routing-key': m.fields.routingKey, 'amqp-exchange': m.fields.exchange };
  for (const [k, v] of Object.entries(m.properties.headers ?? {})) {
    if (v !== undefined && v !== null) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Whether `closed` has resolved already. */
async function isClosed(closed: Promise<void>): Promise<boolean> {
  return Promise.race([closed.then(() => true), Promise.resolve().then(() => false)]);
}

async function consumeLoop(ctx: NodeContext, o: Resolved, io: FlowIO): Promise<void> {
  const url = o.url ?? defaultAmqpUrl();
  const shown = shownUrl(url);
  for (let attempt = 0; !io.signal.aborted; attempt++) {
    const conn = await amqpConnect(ctx, url, io.signal);
    if (!conn) return;
    let channelOpen = true;
    let warnedClosed = false;
    const closed = new Promise<void>((resolve) =>
      conn.once('close', () => {
        channelOpen = false;
        resolve();
      }),
    );
    let ch: Channel;
    let consumerTag: string | undefined;
    let channelError: string | undefined;
    let channelClosed!: Promise<void>;
    try {
      ch = await conn.createChannel();
      channelClosed = new Promise<void>((resolve) =>
        ch.once('close', () => {
          channelOpen = false;
          resolve();
        }),
      );
      ch.on('error', (err: Error) => {
        channelError = redactUrlSecrets(url, err.message);
        ctx.logger.warn(`node '${ctx.name}': AMQP channel at ${shown}: ${redactUrlSecrets(url, err.message)}`);
      });
      await ch.prefetch(o.prefetch);
      if (o.assertQueue) {
        await ch.assertQueue(o.queue, {
          durable: true,
          ...(o.deadLetterExchange !== undefined ? { deadLetterExchange: o.deadLetterExchange } : {}),
        });
        if (o.bindExchange) await ch.bindQueue(o.queue, o.bindExchange, o.bindKey);
      }
      const settle =
        (m: ConsumeMessage, requeue = o.requeue) =>
        (s: { acked: boolean }) => {
          if (!channelOpen) {
            // The broker already took the message back when the channel closed: it will be redelivered.
            if (!warnedClosed)
              ctx.logger.warn(`node '${ctx.name}': channel to ${shown} closed before events settled; the broker redelivers them`);
            warnedClosed = true;
            return;
          }
          try {
            if (s.acked) ch.ack(m);
            else ch.nack(m, false, requeue);
          } catch (err) {
            // The channel closed under us: the broker takes the message back and redelivers it.
            ctx.logger.warn(
              `node '${ctx.name}': cannot settle a message on ${shown}: ${redactUrlSecrets(url, errorMessage(err))}; the broker redelivers it`,
            );
          }
        };
      const reply = await ch.consume(
        o.queue,
        (m) => {
          if (!m) {
            ctx.logger.warn(`node '${ctx.name}': the broker cancelled the consumer of queue '${o.queue}' at ${shown}`);
            void conn.close().catch(() => undefined);
            return;
          }
          attempt = 0; // messages flow again: the next reconnect starts its back-off afresh
          if (io.signal.aborted) {
            // Arrived while stopping: hand it straight back (a closed channel returns it anyway).
            try {
              ch.nack(m, false, true);
            } catch {
              /* the broker requeues unacked messages of a closed channel */
            }
            return;
          }
          // Redelivering cannot fix a decode failure: if its error event is nacked, the message is
          // rejected without requeue (to the dead-letter exchange, if the queue has one).
          void emitMessage(
            io,
            m.content,
            o.codec,
            `a message from queue '${o.queue}'`,
            { headers: headersOf(m) },
            settle(m),
            settle(m, false),
          );
        },
        { noAck: false },
      );
      consumerTag = reply.consumerTag;
    } catch (err) {
      ctx.logger.error(`node '${ctx.name}': queue '${o.queue}' at ${shown}: ${redactUrlSecrets(url, errorMessage(err))}`);
      await conn.close().catch(() => undefined);
      await sleep(ctx.scheduler, backoffDelay(attempt, { initial: 250, max: 10_000 }), io.signal);
      continue;
    }
    const aborted = new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    // The connection may close, or only the channel (a channel error, a consumer timeout): either
    // way the consumer is gone and must be set up again.
    await Promise.race([closed, channelClosed, aborted]);
    if (io.signal.aborted) {
      if (channelOpen && consumerTag) await ch.cancel(consumerTag).catch(() => undefined);
      // Let in-flight events settle so their acks reach the broker; unacked ones are requeued on close.
      await within(ctx.scheduler, Promise.race([io.settled(), closed]), o.closeTimeout);
      if (io.inFlight > 0 && channelOpen) {
        ctx.logger.warn(`node '${ctx.name}': closing ${shown} with ${io.inFlight} events unsettled; the broker requeues them`);
      }
      await conn.close().catch(() => undefined);
      return;
    }
    const wait = backoffDelay(attempt, { initial: 250, max: 10_000 });
    if (!(await isClosed(closed))) {
      ctx.logger.warn(
        `node '${ctx.name}': channel consuming queue '${o.queue}' at ${shown} closed${channelError ? ` (${channelError})` : ''}; reconnecting in ${wait}ms`,
      );
      await conn.close().catch(() => undefined);
    } else {
      ctx.logger.warn(`node '${ctx.name}': connection to ${shown} lost; reconnecting in ${wait}ms`);
    }
    await sleep(ctx.scheduler, wait, io.signal);
  }
}

/**
 * Source consuming a RabbitMQ (AMQP 0-9-1) queue. Each message is acked once its event was
 * settled downstream; a nacked one is requeued (default) or rejected to the queue's
 * dead-letter exchange (`requeue: false` with `deadLetterExchange`). `prefetch` caps events in
 * flight. A lost connection is re-established with back-off (unacked messages are redelivered
 * by the broker). On `stop()` it cancels the consumer, lets in-flight events settle, then closes.
 *
 * @example
 * ```ts
 * net.add('bets', connectors.amqpSource({ queue: 'bets', prefetch: 200, deadLetterExchange: 'bets.dlx', requeue: false }));
 * ```
 */
export const amqpSource = defineNode({
  name: 'amqp_source',
  io: 'network',
  role: 'source',
  summary: 'Consumes a RabbitMQ queue with prefetch; acks after settlement, nacks with requeue or to a dead-letter exchange.',
  options: amqpSourceOptions,
  positional: ['queue'],
  example: "net.add('bets', connectors.amqpSource({ queue: 'bets', prefetch: 200 }));",
  luaExample: 'tb.create_amqp_source("bets", { queue = "bets", prefetch = 200 })',
  build: (o) => {
    if (o.queue === '') throw new TributaryError('BAD_OPTION', "node kind 'amqp_source': option 'queue' must not be empty");
    if (o.bindExchange !== undefined && !o.assertQueue) {
      throw new TributaryError('BAD_OPTION', "node kind 'amqp_source': option 'bindExchange' needs assertQueue: true");
    }
    return { role: 'source', kind: 'amqp_source', create: (ctx) => flowSource(ctx, o.prefetch, (io) => consumeLoop(ctx, o, io)) };
  },
});
