import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, tapStep, stepStage, type NodeFn } from './stage';

/**
 * Pipeline running a side effect per payload and passing the event on unchanged; a failing
 * side effect turns the event into an error event. A returned promise holds the event until
 * it settles.
 *
 * @example
 * ```ts
 * net.add('audit', nodes.tap({ fn: (bet) => audit.push(bet) }));
 * ```
 */
export const tap = defineNode({
  name: 'tap',
  role: 'pipeline',
  summary: 'Runs a side effect per payload and passes the event on unchanged.',
  options: {
    fn: opt.fn<NodeFn<any, unknown>>('payload => anything (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('audit', nodes.tap({ fn: (p: unknown) => console.log(p) }));",
  luaExample: 'tb.create_tap("audit", function(p) print(p) end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'tap',
    create: (ctx) => stepStage(ctx, tapStep(ctx, fn), concurrency),
  }),
});
