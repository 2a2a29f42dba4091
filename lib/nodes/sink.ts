import { tap as rxTap, type Observer } from 'rxjs';
import { TributaryError } from '../errors';
import type { Event } from '../event';
import { opt } from './options';
import { defineNode } from './registry';
import { concurrencyOption, eventOf, payloadOf, sinkStage, type NodeFn } from './stage';

function toFn(fn: NodeFn<unknown, unknown> | Partial<Observer<unknown>>): NodeFn<unknown, unknown> {
  if (typeof fn === 'function') return fn;
  if (fn && typeof fn === 'object' && typeof fn.next === 'function') {
    const observer = fn;
    return (p) => observer.next!(p);
  }
  // A TributaryError naming the kind, like every other bad option (it was a bare TypeError).
  throw new TributaryError('BAD_OPTION', "node kind 'sink': option 'fn' must be a function or an Observer with next()");
}

/**
 * Sink calling a function (or an Observer's `next`) per payload; the event is acked after the
 * call succeeded (or its promise resolved) and nacked if it failed.
 *
 * @example
 * ```ts
 * const seen: number[] = [];
 * net.add('collect', nodes.sink({ fn: (n: number) => seen.push(n) }));
 * net.add('save', nodes.sink({ fn: async (bet) => db.insert(bet), concurrency: 4 }));
 * ```
 */
export const sink = defineNode({
  name: 'sink',
  role: 'sink',
  summary: 'Calls fn(payload) per event (or an Observer); acks after it succeeded.',
  options: {
    fn: opt.any<NodeFn<any, unknown> | Partial<Observer<any>>>('payload => anything (may return a promise), or an Observer').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('collect', nodes.sink({ fn: (n: number) => console.log(n) }));",
  luaExample: 'tb.create_sink("collect", function(p) print(p) end)',
  build: ({ fn, concurrency }) => {
    const call = toFn(fn);
    const observer = typeof fn === 'function' ? undefined : fn;
    return {
      role: 'sink',
      kind: 'sink',
      create: (ctx) => {
        const stage = sinkStage(ctx, call, concurrency, payloadOf);
        // An Observer also hears that its input ended, once every event was handled.
        return observer?.complete ? (source) => stage(source).pipe(rxTap({ complete: () => observer.complete!() })) : stage;
      },
    };
  },
});

/**
 * The original's handler: a sink function over whole events (metadata included). Acked after
 * it succeeded, nacked if it failed.
 *
 * @example
 * ```ts
 * net.add('printer', nodes.handler({ fn: (e) => console.log(e.meta.id, e.payload) }));
 * ```
 */
export const handler = defineNode({
  name: 'handler',
  role: 'sink',
  summary: 'Calls fn(event) per event; acks after it succeeded.',
  options: {
    fn: opt.fn<NodeFn<Event, unknown>>('event => anything (may return a promise)').require(),
    concurrency: concurrencyOption,
  },
  positional: ['fn'],
  example: "net.add('printer', nodes.handler({ fn: (e: Event) => console.log(e.meta.id, e.payload) }));",
  build: ({ fn, concurrency }) => ({
    role: 'sink',
    kind: 'handler',
    create: (ctx) => sinkStage(ctx, fn, concurrency, eventOf),
  }),
});
