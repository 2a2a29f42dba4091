import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { opt } from './options';
import { defineNode } from './registry';

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
export const ratelimit = defineNode({
  name: 'ratelimit',
  role: 'pipeline',
  summary: 'Lets an event through only if the last one let through was at least `interval` ago.',
  options: {
    interval: opt.duration('minimum time between two events let through').require(),
  },
  positional: ['interval'],
  example: "net.add('filter_2s', nodes.ratelimit({ interval: '2s' }));",
  luaExample: 'tb.create_ratelimit("filter_2s", "2s")',
  build: ({ interval }) => ({
    role: 'pipeline',
    kind: 'ratelimit',
    create: (ctx) =>
      operate<Event, Event>((out, source) => {
        let last = -Infinity;
        source.subscribe(
          handle(out, {
            next(e) {
              if (e.error) return out.next(e);
              const now = ctx.scheduler.now();
              if (now - last >= interval) {
                last = now;
                out.next(e);
              } else {
                ctx.drop(e);
              }
            },
          }),
        );
      }),
  }),
});
