import { withPayload } from '../event';
import { defineNode } from './registry';
import { concurrencyOption, functionStage, payloadOf, type NodeFn } from './stage';

/** Options of {@link map}. */
export interface MapOptions {
  /** Payload in, payload out; may return a promise. */
  fn: NodeFn<any, unknown>;
  /** Events worked on at once (default 1, which keeps order). */
  concurrency?: number;
}

/**
 * Pipeline replacing each payload by `fn(payload)`. The event keeps its metadata and ack
 * handle; a throw or rejection becomes an error event.
 *
 * @example
 * ```ts
 * net.add('double', nodes.map({ fn: (n: number) => n * 2 }));
 * net.add('enrich', nodes.map({ fn: async (bet) => ({ ...bet, customer: await lookup(bet) }), concurrency: 8 }));
 * ```
 */
export const map = defineNode<MapOptions, { fn: NodeFn<unknown, unknown>; concurrency: number }>({
  name: 'map',
  role: 'pipeline',
  summary: 'Replaces each payload by fn(payload) (sync or async).',
  options: {
    fn: { type: 'function', required: true, description: 'payload => new payload (may return a promise)' },
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('double', nodes.map({ fn: (n: number) => n * 2 }));",
  luaExample: 'tb.create_map("double", function(n) return n * 2 end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'map',
    create: (ctx) => functionStage(ctx, fn, concurrency, payloadOf, (e, r, emit) => emit(withPayload(e, r))),
  }),
});
