import { errorMessage, TributaryError } from '../../errors';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import type { NodeContext } from '../../nodes/types';
import { deliveryFields } from '../fields';
import { emitMessage, flowSource, type FlowIO } from '../flow';
import { backoffDelay, sleep, within } from '../retry';
import { closeRedis, redisConnect, redisConnectionOptions } from './connection';

/** The options of {@link redisPubsubSource}, declared once: types, validation, defaults and docs come from here. */
export const redisPubsubSourceOptions = {
  channels: opt.array<string>('channels to SUBSCRIBE to'),
  patterns: opt.array<string>('glob patterns to PSUBSCRIBE to (news.*)'),
  codec: deliveryFields.codec.describe('payload decoding: json, string or bytes (a message that fails to decode becomes an error event)'),
  maxInFlight: deliveryFields.maxInFlight
    .describe('cap on unsettled events; past it the socket is paused (Redis drops a subscriber that falls too far behind)')
    .withDefault(1000),
  ...redisConnectionOptions,
};

/** Options of {@link redisPubsubSource}. */
export type RedisPubsubSourceOptions = InputOf<typeof redisPubsubSourceOptions>;
type Resolved = OutputOf<typeof redisPubsubSourceOptions>;

async function subscribe(ctx: NodeContext, o: Resolved, io: FlowIO): Promise<void> {
  const link = redisConnect(ctx, o, { role: 'subscriber', maxRetriesPerRequest: null });
  const { client } = link;
  const queue: { channel: string; pattern?: string; data: Buffer }[] = [];
  let wake: (() => void) | undefined;
  let paused = false;
  const push = (m: { channel: string; pattern?: string; data: Buffer }) => {
    queue.push(m);
    if (queue.length >= o.maxInFlight && !paused) {
      paused = true;
      client.stream?.pause();
    }
    wake?.();
  };
  client.on('messageBuffer', (channel: Buffer, data: Buffer) => push({ channel: channel.toString(), data }));
  client.on('pmessageBuffer', (pattern: Buffer, channel: Buffer, data: Buffer) =>
    push({ channel: channel.toString(), pattern: pattern.toString(), data }),
  );
  const stop = () => wake?.();
  io.signal.addEventListener('abort', stop, { once: true });
  const noop = () => undefined;
  try {
    // Once subscribed, ioredis subscribes again after a reconnect (messages published meanwhile are lost: at most once).
    const aborted = new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    for (let attempt = 0; !io.signal.aborted; attempt++) {
      const subs: Promise<unknown>[] = [];
      if (o.channels?.length) subs.push(client.subscribe(...o.channels));
      if (o.patterns?.length) subs.push(client.psubscribe(...o.patterns));
      const all = Promise.all(subs);
      all.catch(noop);
      try {
        await Promise.race([all, aborted]);
        break;
      } catch (err) {
        const wait = backoffDelay(attempt, { initial: 250, max: 10_000 });
        ctx.logger.error(`node '${ctx.name}': subscribing at ${link.shown}: ${link.clean(errorMessage(err))}; retrying in ${wait}ms`);
        await sleep(ctx.scheduler, wait, io.signal);
      }
    }
    while (!io.signal.aborted) {
      const m = queue.shift();
      if (!m) {
        if (paused) {
          paused = false;
          client.stream?.resume();
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      const headers: Record<string, string> = { 'redis-channel': m.channel };
      if (m.pattern !== undefined) headers['redis-pattern'] = m.pattern;
      await emitMessage(io, m.data, o.codec, `message on channel '${m.channel}'`, { headers }, noop);
    }
    await within(ctx.scheduler, io.settled(), 5000);
  } finally {
    io.signal.removeEventListener('abort', stop);
    await closeRedis(ctx, client, 2000);
  }
}

/**
 * Source subscribed to Redis pub/sub channels (`channels`, SUBSCRIBE) and glob patterns
 * (`patterns`, PSUBSCRIBE). At most once: Redis keeps nothing for a subscriber, so messages
 * published while the connection is down (it reconnects with back-off and subscribes again)
 * or before the network starts are lost, and a settled event acks nothing. Each event carries
 * the headers `redis-channel` (and `redis-pattern`). Past `maxInFlight` unsettled events the
 * socket is paused; Redis disconnects a subscriber whose output buffer grows too large.
 *
 * @example
 * ```ts
 * net.add('ticks', connectors.redisPubsubSource({ channels: ['ticks'], patterns: ['prices.*'] }));
 * ```
 */
export const redisPubsubSource = defineNode({
  name: 'redis_pubsub_source',
  io: 'network',
  role: 'source',
  summary: 'Subscribes to Redis pub/sub channels and patterns (at most once: nothing is kept for a subscriber).',
  options: redisPubsubSourceOptions,
  positional: ['channels'],
  example: "net.add('ticks', connectors.redisPubsubSource({ channels: ['ticks'], patterns: ['prices.*'] }));",
  luaExample: 'tb.create_redis_pubsub_source("ticks", { channels = { "ticks" }, patterns = { "prices.*" } })',
  build: (o) => {
    if (!o.channels?.length && !o.patterns?.length) {
      throw new TributaryError('BAD_OPTION', "node kind 'redis_pubsub_source': give option 'channels' or 'patterns' (a non-empty list)");
    }
    for (const k of ['channels', 'patterns'] as const) {
      for (const c of o[k] ?? []) {
        if (typeof c !== 'string' || c === '')
          throw new TributaryError('BAD_OPTION', `node kind 'redis_pubsub_source': option '${k}' must hold non-empty strings`);
      }
    }
    return {
      role: 'source',
      kind: 'redis_pubsub_source',
      create: (ctx) => flowSource(ctx, o.maxInFlight, (io) => subscribe(ctx, o, io)),
    };
  },
});
