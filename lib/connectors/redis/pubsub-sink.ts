import type { Observable } from 'rxjs';
import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { encodePayload } from '../codec';
import { deliveryFields } from '../fields';
import { redisConnectionOptions } from './connection';
import { redisPublishingSink } from './publish';

/** The options of {@link redisPubsubSink}, declared once: types, validation, defaults and docs come from here. */
export const redisPubsubSinkOptions = {
  channel: opt.string('channel to PUBLISH to'),
  channelFn: opt.fn<(payload: any, event: Event) => string>('(payload, event) => channel; wins over channel'),
  codec: deliveryFields.codec,
  concurrency: deliveryFields.concurrency.describe('PUBLISHes awaiting their reply at once (pipelined; order kept)'),
  retries: deliveryFields.retries.describe('retries of a PUBLISH that failed for want of a connection, with back-off from 250ms'),
  ...redisConnectionOptions,
};

/** Options of {@link redisPubsubSink}. */
export type RedisPubsubSinkOptions = InputOf<typeof redisPubsubSinkOptions>;

/**
 * Sink publishing each event to a Redis pub/sub channel (`PUBLISH`). At most once: the event
 * is acked once Redis answered, whether or not anybody was subscribed (Redis keeps nothing).
 * A lost connection is retried with back-off; a failure after the retries nacks the event
 * with the channel and address.
 *
 * @example
 * ```ts
 * net.add('ticks_out', connectors.redisPubsubSink({ channel: 'ticks' }));
 * net.add('per_customer', connectors.redisPubsubSink({ channelFn: (a) => `alerts.${a.customer}` }));
 * ```
 */
export const redisPubsubSink = defineNode({
  name: 'redis_pubsub_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to a Redis pub/sub channel (at most once: acked once Redis took it, listeners or not).',
  options: redisPubsubSinkOptions,
  positional: ['channel'],
  example: "net.add('ticks_out', connectors.redisPubsubSink({ channel: 'ticks' }));",
  luaExample: 'tb.create_redis_pubsub_sink("ticks_out", "ticks")',
  build: (o) => {
    if (o.channel === undefined && o.channelFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'redis_pubsub_sink': give option 'channel' or 'channelFn'");
    }
    if (o.channel !== undefined && o.channel === '')
      throw new TributaryError('BAD_OPTION', "node kind 'redis_pubsub_sink': option 'channel' must not be empty");
    const channelOf = (event: Event): string => {
      const c = o.channelFn ? o.channelFn(event.payload, event) : o.channel!;
      if (typeof c !== 'string' || c === '') throw new Error(`channelFn returned ${JSON.stringify(c)}, not a channel`);
      return c;
    };
    return {
      role: 'sink',
      kind: 'redis_pubsub_sink',
      create: (ctx) => (source: Observable<Event>) =>
        redisPublishingSink(ctx, source, {
          connection: o,
          what: (e) => `PUBLISH to channel '${channelOf(e)}'`,
          send: (client, e) => {
            const data = encodePayload(e.payload, o.codec);
            return client.publish(channelOf(e), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
          },
          concurrency: o.concurrency,
          retries: o.retries,
        }),
    };
  },
});
