import { Observable } from 'rxjs';
import { errorMessage } from '../errors';
import type { Event } from '../event';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import type { NodeContext } from '../nodes/types';
import { nodeStore, storeOptions, type NodeStore } from './common';
import { EventArchiver, EventDiscarder, type HousekeepingProgress } from './housekeeping';
import type { EventStore } from './store';

type Keeper = EventArchiver | EventDiscarder;

/** The body of both housekeeping sources: run the keeper, emit its progress, publish its counters. */
function housekeepingSource(
  ctx: NodeContext,
  o: { url?: string; prefix: string },
  make: (store: EventStore) => Promise<Keeper>,
): Observable<Event> {
  return new Observable<Event>((subscriber) => {
    let keeper: Keeper | undefined;
    let held: NodeStore | undefined;
    let stopped = false;
    const stats = () => keeper?.stats ?? { events: 0, batches: 0, expired: 0, errors: 0, lastId: '0' };
    ctx.probe.gauge('events', 'events archived or discarded', () => stats().events);
    ctx.probe.gauge('batches', 'batches written or deleted', () => stats().batches);
    ctx.probe.gauge('housekeeping_errors', 'failed steps (retried with back-off)', () => stats().errors);
    ctx.probe.gauge('expired', 'consumers expired', () => stats().expired);
    ctx.reportProgress(() => ({ read: stats().events, unit: 'events' }));
    const emit = (p: HousekeepingProgress) => {
      if (p.kind === 'error') {
        ctx.stats.errors++;
        ctx.probe.error(p.message);
        ctx.logger.error(`node '${ctx.name}': ${p.message}; retrying`);
      }
      subscriber.next(ctx.event(p));
    };
    const close = async () => {
      await keeper?.stop();
      if (held?.owned) await held.store.close();
    };
    nodeStore(ctx, o)
      .then(async (s) => {
        held = s;
        keeper = await make(s.store);
        if (stopped) return close();
        keeper.progress$.subscribe(emit);
        keeper.start();
      })
      .catch((e: unknown) => {
        ctx.stats.errors++;
        ctx.logger.error(`node '${ctx.name}': ${errorMessage(e)}`);
        void close().finally(() => subscriber.complete());
      });
    return () => {
      stopped = true;
      void close().catch((e: unknown) => ctx.logger.error(`node '${ctx.name}': ${errorMessage(e)}`));
    };
  });
}

/**
 * Source running an {@link EventArchiver}: copies the store's events to a history table in
 * batches and emits a progress event per batch (`{ kind: 'archived', count, lastId }`, or
 * `{ kind: 'error', message }`); its counters are gauges of the network's metrics.
 *
 * @example
 * ```ts
 * net.add('archive', eventstoreArchiver({ url: 'postgres://app@db/shop', history: 'postgres://dwh@db/history' }));
 * ```
 */
export const eventstoreArchiver = defineNode({
  name: 'eventstore_archiver',
  io: 'network',
  role: 'source',
  summary: 'Archives an event store to a history table in batches (a reliable consumer); emits progress events.',
  options: {
    ...storeOptions,
    history: opt.string('history database URL (default: the store database)'),
    historyPrefix: opt.string('history table prefix (default: the store prefix): <prefix>history'),
    component: opt.string('the reliable consumer name').withDefault('ARCHIVER'),
    batch: opt.integer('events per batch', { min: 1, max: 1000 }).withDefault(1000),
    interval: opt.timer('pause when everything is archived', { min: 1 }).withDefault('1s'),
  },
  positional: ['url', 'history'],
  example: "net.add('archive', eventstoreArchiver({ url: 'sqlite:./shop.db', history: 'sqlite:./history.db' }));",
  luaExample: 'tb.create_eventstore_archiver("archive", "sqlite:./shop.db", "sqlite:./history.db")',
  build: (o) => ({
    role: 'source',
    kind: 'eventstore_archiver',
    create: (ctx) =>
      housekeepingSource(ctx, o, (store) =>
        EventArchiver.open(store, {
          history: o.history,
          prefix: o.historyPrefix,
          component: o.component,
          batch: o.batch,
          interval: o.interval,
          scheduler: ctx.scheduler,
        }),
      ),
  }),
});

/**
 * Source running an {@link EventDiscarder}: deletes events every consumer has passed, in
 * bounded batches, optionally expiring consumers not seen for `expireAfter`; emits
 * `{ kind: 'discarded', count }`, `{ kind: 'expired', consumers }` and `{ kind: 'error', message }`.
 *
 * @example
 * ```ts
 * net.add('discard', eventstoreDiscarder({ url: 'sqlite:./shop.db', batch: 500, expireAfter: '168h' }));
 * ```
 */
export const eventstoreDiscarder = defineNode({
  name: 'eventstore_discarder',
  io: 'network',
  role: 'source',
  summary: 'Deletes events every consumer has passed, in bounded batches; can expire dead consumers; emits progress events.',
  options: {
    ...storeOptions,
    batch: opt.integer('events deleted per statement', { min: 1 }).withDefault(1000),
    interval: opt.timer('pause when nothing is left to delete', { min: 1 }).withDefault('10m'),
    expireAfter: opt.duration('unregister consumers not seen for this long (default: never)', { min: 1 }),
  },
  positional: ['url'],
  example: "net.add('discard', eventstoreDiscarder({ url: 'sqlite:./shop.db', expireAfter: '168h' }));",
  luaExample: 'tb.create_eventstore_discarder("discard", "sqlite:./shop.db", { expireAfter = "168h" })',
  build: (o) => ({
    role: 'source',
    kind: 'eventstore_discarder',
    create: (ctx) =>
      housekeepingSource(ctx, o, (store) =>
        Promise.resolve(
          new EventDiscarder(store, { batch: o.batch, interval: o.interval, expireAfter: o.expireAfter, scheduler: ctx.scheduler }),
        ),
      ),
  }),
});
