import { defineNode } from '../nodes/registry';
import { compileCondition } from './condition';
import { located, processNode, protoOptions, readProcessOptions, retryOf, RETRY_FIELD, STOP, withFields } from './process';
import { CONTINUATION } from './proto';

/** The options of {@link continueNode}: agglo's `Continuation` message plus `retryStrategy`. */
export const CONTINUE_OPTIONS = withFields(CONTINUATION, { retryStrategy: RETRY_FIELD });

/**
 * Process node gating a pipeline: an event whose condition holds goes on; one whose condition
 * is false ends here quietly — acked and counted as dropped, not an error (agglo stops the
 * pipeline with a "continuation not satisfied" warning).
 *
 * @example
 * ```ts
 * net.add('only_big', agglo.continueNode({ condition: { expression: { comparator: {
 *   lhs: { variable: { name: 'amount' } }, rhs: { numeric: 100 }, op: 'GreaterThanOrEqual' } } } }));
 * ```
 */
export const continueNode = defineNode({
  name: 'continue',
  role: 'pipeline',
  summary: "agglo's continuation: passes events whose condition holds; ends the others quietly (acked, counted as dropped).",
  options: protoOptions(CONTINUE_OPTIONS, {
    name: 'the process name (for errors)',
    condition: 'agglo condition; events for which it is false stop here',
  }),
  positional: [],
  example:
    "net.add('only_big', agglo.continueNode({ condition: { expression: { comparator: { lhs: { variable: { name: 'amount' } }, rhs: { numeric: 100 }, op: 'GreaterThanOrEqual' } } } }));",
  luaExample: 'tb.create_continue("only_tests", { condition = { exists = { ops = { { key = "doTest", op = "Exists" } } } } })',
  build: (options) => {
    const msg = readProcessOptions('continue', CONTINUE_OPTIONS, options);
    const condition = located('continue', msg, () => compileCondition(msg.condition, 'condition'));
    return processNode('continue', retryOf(msg), () => (payload) => (condition.test(payload) ? payload : STOP));
  },
});
