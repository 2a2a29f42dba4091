import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, whereStep, stepStage, type NodeFn } from './stage';

/**
 * Pipeline keeping the events whose payload satisfies the predicate; the others are dropped
 * and acked.
 *
 * @example
 * ```ts
 * net.add('big_stakes', nodes.where({ fn: (bet) => bet.stake >= 100 }));
 * ```
 */
export const where = defineNode({
  name: 'where',
  role: 'pipeline',
  summary: 'Keeps events whose payload satisfies the predicate; drops (and acks) the rest.',
  options: {
    fn: opt.fn<NodeFn<any, unknown>>('payload => boolean (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('big_stakes', nodes.where({ fn: (bet: { stake: number }) => bet.stake >= 100 }));",
  luaExample: 'tb.create_where("big_stakes", function(bet) return bet.stake >= 100 end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'where',
    create: (ctx) => stepStage(ctx, whereStep(ctx, fn), concurrency),
  }),
});
