import { forkDelivery } from '../delivery';
import { createEvent } from '../event';
import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, functionStage, payloadOf, type NodeFn } from './stage';

/**
 * Pipeline turning each payload into zero or more payloads. The input's ack handle is split:
 * it is acked once every output has been (at once when the list is empty).
 *
 * @example
 * ```ts
 * net.add('selections', nodes.flatmap({ fn: (bet) => bet.selections }));
 * ```
 */
export const flatmap = defineNode({
  name: 'flatmap',
  role: 'pipeline',
  summary: 'Turns each payload into a list of payloads (1 to N), one event each.',
  options: {
    fn: opt.fn<NodeFn<any, Iterable<unknown>>>('payload => list of payloads (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('words', nodes.flatmap({ fn: (line: string) => line.split(' ') }));",
  luaExample: 'tb.create_flatmap("pairs", function(n) return { n, n } end)',
  build: ({ fn, concurrency }) => ({
    role: 'pipeline',
    kind: 'flatmap',
    create: (ctx) =>
      functionStage(ctx, fn, concurrency, payloadOf, (e, result, emit) => {
        if (result === null || typeof result !== 'object' || typeof (result as Iterable<unknown>)[Symbol.iterator] !== 'function') {
          throw new TypeError(`flatmap function must return a list, got ${result === null ? 'null' : typeof result}`);
        }
        const items = Array.from(result);
        if (items.length === 0) {
          ctx.drop(e);
          return;
        }
        const parts = e.delivery ? forkDelivery(e.delivery, items.length) : undefined;
        const { meta } = e;
        for (let i = 0; i < items.length; i++) {
          emit(
            createEvent(items[i], {
              time: meta.time,
              key: meta.key,
              headers: meta.headers as Record<string, string> | undefined,
              delivery: parts?.[i],
            }),
          );
        }
      }),
  }),
});
