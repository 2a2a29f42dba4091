import type { Observable } from 'rxjs';
import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { encodePayload } from '../codec';
import { deliveryFields } from '../fields';
import { redisConnectionOptions } from './connection';
import { redisPublishingSink } from './publish';

/** The options of {@link redisStreamSink}, declared once: types, validation, defaults and docs come from here. */
export const redisStreamSinkOptions = {
  stream: opt.string('stream key to append to'),
  streamFn: opt.fn<(payload: any, event: Event) => string>('(payload, event) => stream key; wins over stream'),
  field: opt.string('entry field holding the payload').withDefault('data'),
  maxLen: opt.integer('trim the stream to about this many entries with each XADD (MAXLEN ~)', { min: 1 }),
  headers: opt.boolean("write the event's headers as further fields (not redis-*, nats-*, amqp-* ones)").withDefault(true),
  codec: deliveryFields.codec,
  concurrency: deliveryFields.concurrency.describe('XADDs awaiting their reply at once (pipelined; order kept)'),
  retries: deliveryFields.retries.describe('retries of an XADD that failed for want of a connection, with back-off from 250ms'),
  ...redisConnectionOptions,
};

/** Options of {@link redisStreamSink}. */
export type RedisStreamSinkOptions = InputOf<typeof redisStreamSinkOptions>;

/** The encoded payload as a Buffer over the same memory (no copy). */
const bytes = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** Headers a transport set on the way in: not copied onto the way out. */
const TRANSPORT = /^(redis-|amqp-|nats-subject$|tributary-position$)/;

/**
 * Sink appending each event to a Redis stream with `XADD` (`MAXLEN ~ maxLen` when given): the
 * payload encoded with `codec` in `field`, the event's headers as further fields. The event is
 * acked once Redis answered with the new entry's id; a lost connection is retried with
 * back-off, and an error Redis answers — `WRONGTYPE` for a key that is not a stream — nacks it
 * at once with the reason, the stream and the address.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.redisStreamSink({ stream: 'alerts', maxLen: 100_000 }));
 * net.add('per_customer', connectors.redisStreamSink({ streamFn: (a) => `alerts:${a.customer}` }));
 * ```
 */
export const redisStreamSink = defineNode({
  name: 'redis_stream_sink',
  io: 'network',
  role: 'sink',
  summary: 'Appends each event to a Redis stream (XADD, optional MAXLEN ~); acks after the reply, nacks with the reason.',
  options: redisStreamSinkOptions,
  positional: ['stream'],
  example: "net.add('alerts_out', connectors.redisStreamSink({ stream: 'alerts', maxLen: 100000 }));",
  luaExample: 'tb.create_redis_stream_sink("alerts_out", "alerts")',
  build: (o) => {
    if (o.stream === undefined && o.streamFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'redis_stream_sink': give option 'stream' or 'streamFn'");
    }
    for (const k of ['stream', 'field'] as const) {
      if (o[k] !== undefined && o[k].trim() === '')
        throw new TributaryError('BAD_OPTION', `node kind 'redis_stream_sink': option '${k}' must not be empty`);
    }
    const streamOf = (event: Event): string => {
      const s = o.streamFn ? o.streamFn(event.payload, event) : o.stream!;
      if (typeof s !== 'string' || s === '') throw new Error(`streamFn returned ${JSON.stringify(s)}, not a stream key`);
      return s;
    };
    const trim = o.maxLen !== undefined ? ['MAXLEN', '~', o.maxLen] : [];
    return {
      role: 'sink',
      kind: 'redis_stream_sink',
      create: (ctx) => (source: Observable<Event>) =>
        redisPublishingSink(ctx, source, {
          connection: o,
          what: (e) => `XADD to stream '${streamOf(e)}'`,
          send: (client, e) => {
            const args: (string | number | Buffer)[] = [streamOf(e), ...trim, '*', o.field, bytes(encodePayload(e.payload, o.codec))];
            const h = e.meta.headers;
            if (o.headers && h) for (const [k, v] of Object.entries(h)) if (!TRANSPORT.test(k) && k !== o.field) args.push(k, v);
            return client.call('XADD', ...args);
          },
          concurrency: o.concurrency,
          retries: o.retries,
        }),
    };
  },
});
