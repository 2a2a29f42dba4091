import { Observable } from 'rxjs';
import type { Duration } from '../duration';
import { defineNode } from './registry';

/** Options of {@link ratelimit}. */
export interface RatelimitOptions {
  /** Minimum time between two events let through. */
  interval: Duration;
}

/**
 * Pipeline letting an event through only if the last one it let through was at least
 * `interval` ago (the first always passes). Dropped events are acked. Error events pass
 * without counting against the limit.
 *
 * @example
 * ```ts
 * net.add('filter_2s', nodes.ratelimit({ interval: '2s' }));
 * ```
 */
export const ratelimit = defineNode<RatelimitOptions, { interval: number }>({
  name: 'ratelimit',
  role: 'pipeline',
  summary: 'Lets an event through only if the last one let through was at least `interval` ago.',
  options: {
    interval: { type: 'duration', required: true, description: 'minimum time between two events let through' },
  },
  positional: ['interval'],
  example: "net.add('filter_2s', nodes.ratelimit({ interval: '2s' }));",
  luaExample: 'tb.create_ratelimit("filter_2s", "2s")',
  build: ({ interval }) => ({
    role: 'pipeline',
    kind: 'ratelimit',
    create: (ctx) => (source) =>
      new Observable((subscriber) => {
        let last = -Infinity;
        return source.subscribe({
          next(e) {
            if (e.error) return subscriber.next(e);
            const now = ctx.scheduler.now();
            if (now - last >= interval) {
              last = now;
              subscriber.next(e);
            } else {
              ctx.drop(e);
            }
          },
          error: (err) => subscriber.error(err),
          complete: () => subscriber.complete(),
        });
      }),
  }),
});
