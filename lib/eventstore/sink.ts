import { Observable } from 'rxjs';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { opt, type InputOf } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { concurrencyOption, payloadOf, sinkStage } from '../nodes/stage';
import type { NodeContext } from '../nodes/types';
import { nodeStore, storeOptions, type NodeStore } from './common';
import type { EventStore } from './store';
import { checkType, encodeData, type NewEvent } from './types';

/** The options of {@link eventstoreSink}, declared once: types, validation, defaults and docs come from here. */
export const eventstoreSinkOptions = {
  ...storeOptions,
  type: opt.string('event type of every event (^[A-Z_]{1,16}$); without it each payload must be { type, data }'),
  concurrency: concurrencyOption
    .describe('events accepted at once; those arriving while a commit runs go in the next one')
    .withDefault(100),
};

/** Options of {@link eventstoreSink}. */
export type EventstoreSinkOptions = InputOf<typeof eventstoreSinkOptions>;

/** Commits events in groups: whatever arrived while the previous commit ran goes in the next one. */
class GroupCommit {
  private next: { rows: NewEvent[]; promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } | undefined;
  private busy = false;
  constructor(private readonly store: () => Promise<EventStore>) {}

  add(row: NewEvent): Promise<void> {
    if (!this.next) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      this.next = { rows: [], promise, resolve, reject };
    }
    this.next.rows.push(row);
    const p = this.next.promise;
    if (!this.busy) void this.drain();
    return p;
  }

  private async drain(): Promise<void> {
    this.busy = true;
    while (this.next) {
      const batch = this.next;
      this.next = undefined;
      try {
        await (await this.store()).addEvents(batch.rows);
        batch.resolve();
      } catch (e) {
        batch.reject(e);
      }
    }
    this.busy = false;
  }
}

/**
 * Sink appending each event to an event store: the type from the `type` option (the payload
 * is the data) or from the payload (`{ type, data }`). Events arriving while a commit runs
 * are committed together in the next one; each is acked after its commit, nacked with the
 * database's error, and a payload with a bad type or no JSON form is nacked naming the node.
 *
 * @example
 * ```ts
 * net.add('outbox', eventstoreSink({ url: 'sqlite:./shop.db', type: 'ALERT_RAISED' }));
 * ```
 */
export const eventstoreSink = defineNode({
  name: 'eventstore_sink',
  io: 'network',
  role: 'sink',
  summary: 'Appends each payload to an event store as an event (type from an option or the payload); acks after commit.',
  options: eventstoreSinkOptions,
  positional: ['url', 'type'],
  example: "net.add('outbox', eventstoreSink({ url: 'sqlite:./shop.db', type: 'ALERT_RAISED' }));",
  luaExample: 'tb.create_eventstore_sink("outbox", "sqlite:./shop.db", "ALERT_RAISED")',
  build: (o) => {
    if (o.type !== undefined) {
      try {
        checkType(o.type);
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `node kind 'eventstore_sink': option 'type': ${(e as Error).message}`);
      }
    }
    const rowOf = (payload: unknown): NewEvent => {
      let type: string;
      let data: unknown;
      if (o.type !== undefined) {
        type = o.type;
        data = payload;
      } else {
        const p = payload as { type?: unknown; data?: unknown } | null;
        if (typeof p !== 'object' || p === null || !('type' in p) || !('data' in p)) {
          throw new Error("payload must be { type, data } (or give the node option 'type')");
        }
        type = checkType(p.type);
        data = p.data;
      }
      encodeData(type, data);
      return { type, data };
    };
    return {
      role: 'sink',
      kind: 'eventstore_sink',
      create: (ctx: NodeContext) => (source: Observable<Event>) => {
        let held: Promise<NodeStore> | undefined;
        const store = () => (held ??= nodeStore(ctx, o)).then((s) => s.store);
        const group = new GroupCommit(store);
        let written = 0;
        ctx.reportProgress(() => ({ read: written, unit: 'events' }));
        return new Observable<never>((subscriber) => {
          const sub = sinkStage(
            ctx,
            async (payload: unknown) => {
              await group.add(rowOf(payload));
              written++;
            },
            o.concurrency,
            payloadOf,
          )(source).subscribe({
            error: (e) => subscriber.error(e),
            complete: () => {
              const done = () => subscriber.complete();
              if (!held) return done();
              held.then((s) => (s.owned ? s.store.close() : undefined)).then(done, done);
            },
          });
          return () => sub.unsubscribe();
        });
      },
    };
  },
});
