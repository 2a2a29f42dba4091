import type { Subscription } from 'rxjs';
import { joinDeliveries, type Delivery } from '../delivery';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { opt } from './options';
import { defineNode } from './registry';
import { CUT_OFF } from './stage';

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
export const buffer = defineNode({
  name: 'buffer',
  role: 'pipeline',
  summary: 'Collects payloads into lists by count and/or time.',
  options: {
    size: opt.integer('emit when this many payloads are collected', { min: 1 }),
    interval: opt.timer('emit what was collected at least this often', { min: 1 }),
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
      create: (ctx) =>
        operate<Event, Event>((out, source) => {
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
            out.next(
              ctx.event(
                batch.map((e) => e.payload),
                { time: first.meta.time, key: first.meta.key, delivery: joinDeliveries(deliveries) },
              ),
            );
          };
          source.subscribe(
            handle(out, {
              next(e) {
                if (e.error) return out.next(e);
                items.push(e);
                if (size !== undefined && items.length >= size) flush();
                else if (interval !== undefined && !timer) timer = ctx.scheduler.schedule(flush, interval);
              },
              complete() {
                flush();
                out.complete();
              },
              finalize() {
                timer?.unsubscribe();
                // Cut off before a flush: give the collected events back rather than lose them.
                for (const e of items.splice(0)) ctx.nack(e, CUT_OFF);
              },
            }),
          );
        }),
    };
  },
});
