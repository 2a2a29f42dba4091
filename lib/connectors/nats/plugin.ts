import { definePlugin } from '../../nodes/plugin';
import { natsSink } from './sink';
import { natsSource } from './source';

/**
 * NATS (core and JetStream) as a plugin: `nats_source` and `nats_sink`. The `nats` client
 * loads when a node starts, not with the plugin.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [natsPlugin] });
 * net.create('nats_source', 'bets', { subject: 'bets.>', stream: 'BETS' });
 * ```
 */
export const natsPlugin = definePlugin({ name: 'nats', kinds: [natsSource, natsSink] });
