import { Observable, type Subscription } from 'rxjs';
import { joinDeliveries, type Delivery } from '../delivery';
import type { Duration } from '../duration';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { defineNode } from './registry';
import { CUT_OFF } from './stage';

/** Options of {@link buffer}. */
export interface BufferOptions {
  /** Emit when this many payloads are collected. */
  size?: number;
  /** Emit what was collected at least this often (only when something was). */
  interval?: Duration;
}

/**
 * Pipeline collecting payloads into lists, emitted every `size` events and/or every
 * `interval` (whichever comes first), and once more on completion. The list event's ack
 * handle settles all collected events. Error events pass through at once.
 *
 * @example
 * ```ts
 * net.add('batches', nodes.buffer({ size: 100, interval: '1s' }));
 * ```
 */
export const buffer = defineNode<BufferOptions, { size?: number; interval?: number }>({
  name: 'buffer',
  role: 'pipeline',
  summary: 'Collects payloads into lists by count and/or time.',
  options: {
    size: { type: 'integer', min: 1, description: 'emit when this many payloads are collected' },
    interval: { type: 'duration', min: 1, description: 'emit what was collected at least this often' },
  },
  positional: ['size'],
  example: "net.add('batches', nodes.buffer({ size: 100, interval: '1s' }));",
  luaExample: 'tb.create_buffer("batches", { size = 100, interval = "1s" })',
  build: ({ size, interval }) => {
    if (size === undefined && interval === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'buffer': give option 'size', 'interval' or both");
    }
    return {
      role: 'pipeline',
      kind: 'buffer',
      create: (ctx) => (source) =>
        new Observable<Event>((subscriber) => {
          let items: Event[] = [];
          let timer: Subscription | undefined;
          const flush = () => {
            timer?.unsubscribe();
            timer = undefined;
            if (items.length === 0) return;
            const batch = items;
            items = [];
            const deliveries = batch.map((e) => e.delivery).filter((d): d is Delivery => d !== undefined);
            const first = batch[0];
            subscriber.next(
              ctx.event(
                batch.map((e) => e.payload),
                { time: first.meta.time, key: first.meta.key, delivery: joinDeliveries(deliveries) },
              ),
            );
          };
          const sub = source.subscribe({
            next(e) {
              if (e.error) return subscriber.next(e);
              items.push(e);
              if (size !== undefined && items.length >= size) flush();
              else if (interval !== undefined && !timer) timer = ctx.scheduler.schedule(flush, interval);
            },
            error: (err) => subscriber.error(err),
            complete() {
              flush();
              subscriber.complete();
            },
          });
          return () => {
            timer?.unsubscribe();
            sub.unsubscribe();
            // Cut off before a flush: give the collected events back rather than lose them.
            for (const e of items.splice(0)) ctx.nack(e, CUT_OFF);
          };
        }),
    };
  },
});
