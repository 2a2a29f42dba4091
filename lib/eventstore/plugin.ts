import { definePlugin } from '../nodes/plugin';
import { eventstoreArchiver, eventstoreDiscarder } from './housekeeping-nodes';
import { eventstoreSink } from './sink';
import { eventstoreSource } from './source';

/**
 * The event store (FTN18 transactional outbox) as a plugin: `eventstore_source` (reliable or
 * live), `eventstore_sink`, and the housekeepers `eventstore_archiver` and `eventstore_discarder`. TypeORM loads when a node opens its store, not with the plugin.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [eventstorePlugin] });
 * net.create('eventstore_source', 'orders', { url: 'sqlite:./shop.db', component: 'alerts' });
 * ```
 */
export const eventstorePlugin = definePlugin({
  name: 'eventstore',
  kinds: [eventstoreSource, eventstoreSink, eventstoreArchiver, eventstoreDiscarder],
});
