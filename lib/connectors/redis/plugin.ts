import { definePlugin } from '../../nodes/plugin';
import { redisPubsubSink } from './pubsub-sink';
import { redisPubsubSource } from './pubsub-source';
import { redisStreamSink } from './stream-sink';
import { redisStreamSource } from './stream-source';

/**
 * Redis as a plugin: streams with consumer groups (`redis_stream_source`, `redis_stream_sink`)
 * and pub/sub (`redis_pubsub_source`, `redis_pubsub_sink`). ioredis loads when a node starts,
 * not with the plugin.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [redisPlugin] });
 * net.create('redis_stream_source', 'bets', { stream: 'bets', group: 'scoring' });
 * ```
 */
export const redisPlugin = definePlugin({
  name: 'redis',
  kinds: [redisStreamSource, redisStreamSink, redisPubsubSource, redisPubsubSink],
});
