import { opt } from '../nodes/options';
import type { NodeContext } from '../nodes/types';
import { EventStore } from './store';

/** The service key under which a network finds a shared {@link EventStore} (`net.provide(EVENTSTORE_SERVICE, store)`). */
export const EVENTSTORE_SERVICE = 'tributary.eventstore';

/** Options every event store node shares: where the store is. */
export const storeOptions = {
  url: opt.string(
    'event store database (sqlite:./outbox.db, mysql://…, postgres://…); without it the node uses the store provided as service tributary.eventstore',
  ),
  prefix: opt.string('table name prefix (evt_queue, evt_consumers …)').withDefault('evt_'),
};

/** The store a node uses, and whether it opened it (then it closes it too). */
export interface NodeStore {
  store: EventStore;
  owned: boolean;
}

/**
 * Opens the node's store from `url`, or takes the network's shared one.
 *
 * @example
 * ```ts
 * const { store, owned } = await nodeStore(ctx, { url: 'sqlite:./outbox.db', prefix: 'evt_' });
 * ```
 */
export async function nodeStore(ctx: NodeContext, o: { url?: string; prefix: string }): Promise<NodeStore> {
  if (o.url !== undefined) return { store: await EventStore.open({ url: o.url, prefix: o.prefix }), owned: true };
  return { store: ctx.service<EventStore>(EVENTSTORE_SERVICE), owned: false };
}
