import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { defineNode } from './registry';
import { rejectErrorEvent } from './stage';

/**
 * Sink that drops every event and acks it: the explicit way to say "these may go". An error
 * event is not one of them: it is work that failed, so it is nacked (its source redelivers or
 * answers with a failure) and reported like at every other sink; send failures you mean to
 * discard through an error route (`net.routeErrors(node, 'void')`), which delivers them as
 * plain dead letters.
 *
 * @example
 * ```ts
 * net.add('void', nodes.discarder());
 * ```
 */
export const discarder = defineNode({
  name: 'discarder',
  role: 'sink',
  summary: 'Drops every event and acks it; error events are nacked and reported, never acked.',
  options: {},
  positional: [],
  example: "net.add('void', nodes.discarder());",
  luaExample: 'tb.create_discarder("void")',
  build: () => ({
    role: 'sink',
    kind: 'discarder',
    // One subscriber per subscription instead of tap + ignoreElements.
    create: (ctx) =>
      operate<Event, never>((out, source) =>
        source.subscribe(handle(out, { next: (e) => (e.error ? rejectErrorEvent(ctx, e) : ctx.drop(e)) })),
      ),
  }),
});
