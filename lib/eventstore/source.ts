import { Observable, type Subscription } from 'rxjs';
import { createDelivery } from '../delivery';
import { errorMessage, TributaryError } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { live$, reliable$, type EventReceipt } from './consume';
import { nodeStore, storeOptions, type NodeStore } from './common';
import { checkType } from './types';

/** The options of {@link eventstoreSource}, declared once: types, validation, defaults and docs come from here. */
export const eventstoreSourceOptions = {
  ...storeOptions,
  mode: opt
    .enum(['reliable', 'live'], 'reliable: replay from the stored pointer, acks move it; live: new events only, drop-oldest')
    .withDefault('reliable'),
  component: opt.string('reliable consumer name, registered if new (default: the node name); LIVE is reserved'),
  want: opt.array<string>('only these event types (^[A-Z_]{1,16}$)'),
  limit: opt.integer('events per poll (FTN18: at most 1000)', { min: 1, max: 1000 }).withDefault(100),
  pollInterval: opt.timer('how often to look for events committed by other processes', { min: 1 }).withDefault('250ms'),
  retryDelay: opt.timer('first delay before a nacked batch comes again (doubled per retry up to 30s)', { min: 0 }).withDefault('500ms'),
  maxInFlight: opt.integer('live: events unsettled at most', { min: 1 }).withDefault(100),
  queue: opt.integer('live: events waiting at most; beyond it the oldest is dropped', { min: 1 }).withDefault(1000),
  payload: opt.enum(['event', 'data'], 'event: { id, type, data, ts }; data: the event data only').withDefault('event'),
  closeTimeout: opt.timer('at stop, how long to wait for events in flight to settle', { min: 0 }).withDefault('10s'),
};

/** Options of {@link eventstoreSource}. */
export type EventstoreSourceOptions = InputOf<typeof eventstoreSourceOptions>;

/**
 * Source of an event store's events. `reliable` (the default) registers `component` and
 * replays the events after its stored pointer, then follows new ones: one batch in flight,
 * the pointer moved only by acks, a nacked event and those after it delivered again. `live`
 * delivers events committed after the start, with a bounded queue that drops the oldest
 * (the next event's `eventstore-dropped` header counts them). Each event carries the headers
 * `eventstore-id` (its position) and `eventstore-type`.
 *
 * @example
 * ```ts
 * net.add('orders', eventstoreSource({ url: 'sqlite:./shop.db', component: 'alerts', want: ['ORDER_PLACED'] }));
 * ```
 */
export const eventstoreSource = defineNode({
  name: 'eventstore_source',
  io: 'network',
  role: 'source',
  summary: 'Reads an event store (FTN18 outbox): reliable with a stored pointer moved by acks, or live with drop-oldest.',
  options: eventstoreSourceOptions,
  positional: ['url', 'component'],
  example: "net.add('orders', eventstoreSource({ url: 'sqlite:./shop.db', component: 'alerts', want: ['ORDER_PLACED'] }));",
  luaExample: 'tb.create_eventstore_source("orders", "sqlite:./shop.db", "alerts", { want = { "ORDER_PLACED" } })',
  build: (o) => {
    o.want?.forEach((t) => {
      try {
        checkType(t);
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `node kind 'eventstore_source': option 'want': ${errorMessage(e)}`);
      }
    });
    if (o.mode === 'reliable' && o.component === 'LIVE') {
      throw new TributaryError('BAD_OPTION', "node kind 'eventstore_source': option 'component': LIVE is reserved (use mode: 'live')");
    }
    return {
      role: 'source',
      kind: 'eventstore_source',
      create: (ctx) =>
        new Observable<Event>((subscriber) => {
          let inFlight = 0;
          let emitted = 0;
          let idle: (() => void) | undefined;
          let inner: Subscription | undefined;
          let stopped = false;
          let held: NodeStore | undefined;
          const onError = (e: unknown) => {
            ctx.stats.errors++;
            ctx.probe.error(errorMessage(e));
            ctx.logger.error(`node '${ctx.name}': ${errorMessage(e)}`);
          };
          ctx.reportProgress(() => ({ inFlight, read: emitted, unit: 'events' }));
          const emit = (r: EventReceipt) => {
            inFlight++;
            emitted++;
            const delivery = createDelivery((s) => {
              if (s.acked) r.ack();
              else r.nack(s.reason);
              if (--inFlight === 0) idle?.();
            });
            const headers: Record<string, string> = { 'eventstore-id': r.event.id, 'eventstore-type': r.event.type };
            if (r.dropped) headers['eventstore-dropped'] = String(r.dropped);
            subscriber.next(ctx.event(o.payload === 'data' ? r.event.data : r.event, { headers, delivery }));
          };
          nodeStore(ctx, o).then(
            (s) => {
              held = s;
              if (stopped) return void close();
              const common = { want: o.want, limit: o.limit, pollInterval: o.pollInterval, scheduler: ctx.scheduler, onError };
              const stream =
                o.mode === 'live'
                  ? live$(s.store, { ...common, maxInFlight: o.maxInFlight, queue: o.queue })
                  : reliable$(s.store, o.component ?? ctx.name, { ...common, retryDelay: o.retryDelay });
              inner = stream.subscribe(emit);
            },
            (e: unknown) => {
              onError(e);
              subscriber.complete();
            },
          );
          const close = () => {
            inner?.unsubscribe();
            if (held?.owned) void held.store.close().catch(onError);
          };
          return () => {
            stopped = true;
            if (inFlight === 0) return close();
            // Let events in flight settle so their acks move the pointer before the store closes.
            const timer = ctx.scheduler.schedule(() => {
              idle = undefined;
              close();
            }, o.closeTimeout);
            idle = () => {
              idle = undefined;
              timer.unsubscribe();
              close();
            };
          };
        }),
    };
  },
});
