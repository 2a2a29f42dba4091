import { definePlugin } from '../../nodes/plugin';
import { amqpSink } from './sink';
import { amqpSource } from './source';

/**
 * RabbitMQ (AMQP 0-9-1) as a plugin: `amqp_source` and `amqp_sink`. amqplib loads when a
 * node starts, not with the plugin.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [amqpPlugin] });
 * net.create('amqp_source', 'bets', { queue: 'bets' });
 * ```
 */
export const amqpPlugin = definePlugin({ name: 'amqp', kinds: [amqpSource, amqpSink] });
