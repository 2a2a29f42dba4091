import { defineNode } from './registry';
import { concurrencyOption, functionStage, payloadOf, type NodeFn } from './stage';

/** Options of {@link tap}. */
export interface TapOptions {
  /** Side effect per payload; may return a promise (the event waits for it). */
  fn: NodeFn<any, unknown>;
  concurrency?: number;
}

/**
 * Pipeline running a side effect per payload and passing the event on unchanged; a failing
 * side effect turns the event into an error event.
 *
 * @example
 * ```ts
 * net.add('audit', nodes.tap({ fn: (bet) => audit.push(bet) }));
 * ```
 */
export const tap = defineNode<TapOptions, { fn: NodeFn<unknown, unknown>; concurrency: number }>({
  name: 'tap',
  role: 'pipeline',
  summary: 'Runs a side effect per payload and passes the event on unchanged.',
  options: {
    fn: { type: 'function', required: true, description: 'payload => anything (may return a promise)' },
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('audit', nodes.tap({ fn: (p: unknown) => console.log(p) }));",
  luaExample: 'tb.create_tap("audit", function(p) print(p) end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'tap',
    create: (ctx) => functionStage(ctx, fn, concurrency, payloadOf, (e, _r, emit) => emit(e)),
  }),
});
