import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, mapStep, stepStage, type NodeFn } from './stage';

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
export const map = defineNode({
  name: 'map',
  role: 'pipeline',
  summary: 'Replaces each payload by fn(payload) (sync or async).',
  options: {
    fn: opt.fn<NodeFn<any, unknown>>('payload => new payload (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('double', nodes.map({ fn: (n: number) => n * 2 }));",
  luaExample: 'tb.create_map("double", function(n) return n * 2 end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'map',
    create: (ctx) => stepStage(ctx, mapStep(ctx, fn), concurrency),
  }),
});
