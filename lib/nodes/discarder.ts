import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { defineNode } from './registry';

/**
 * Sink that drops everything, error events included, and acks each event: the explicit way
 * to say "these may go".
 *
 * @example
 * ```ts
 * net.add('void', nodes.discarder());
 * ```
 */
export const discarder = defineNode({
  name: 'discarder',
  role: 'sink',
  summary: 'Drops every event (error events too) and acks it.',
  options: {},
  positional: [],
  example: "net.add('void', nodes.discarder());",
  luaExample: 'tb.create_discarder("void")',
  build: () => ({
    role: 'sink',
    kind: 'discarder',
    // One subscriber per subscription instead of tap + ignoreElements.
    create: (ctx) => operate<Event, never>((out, source) => source.subscribe(handle(out, { next: (e) => ctx.drop(e) }))),
  }),
});
