import { defineNode } from './registry';
import { markFusable, passStep } from './stage';

/**
 * Pipeline passing every event through unchanged: a named junction to fan in or out at.
 *
 * @example
 * ```ts
 * net.add('forwarder1', nodes.forwarder());
 * ```
 */
export const forwarder = defineNode({
  name: 'forwarder',
  role: 'pipeline',
  summary: 'Passes every event through unchanged.',
  options: {},
  positional: [],
  example: "net.add('forwarder1', nodes.forwarder());",
  luaExample: 'tb.create_forwarder("forwarder1")',
  build: () => ({ role: 'pipeline', kind: 'forwarder', create: (ctx) => markFusable((source) => source, passStep(ctx)) }),
});
