import { asyncScheduler, filter, map, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { createEvent, type Event } from '../event';
import type { Logger, NodeSpec, NodeStats } from '../nodes/types';
import { createNodeContext } from './context';

/** Options for running a node outside a network. */
export interface StandaloneOptions {
  /** Default `asyncScheduler`; pass the TestScheduler in marble tests. */
  scheduler?: SchedulerLike;
  /** Name used in error events and logs; default the node's kind. */
  name?: string;
  logger?: Logger;
  /** Counters to fill, if you want to read them. */
  stats?: NodeStats;
  /** Services the node looks up with `ctx.service(key)` (e.g. the window store). */
  services?: ReadonlyMap<string, unknown>;
}

/**
 * Turns a pipeline node into a plain RxJS operator over events, for your own `pipe()`.
 *
 * @example
 * ```ts
 * ticks$.pipe(toOperator(nodes.ratelimit({ interval: '2s' }))).subscribe(…);
 * ```
 */
export function toOperator(node: NodeSpec, options: StandaloneOptions = {}): OperatorFunction<Event, Event> {
  if (node.role !== 'pipeline') throw new TypeError(`toOperator needs a pipeline node, got a ${node.role} (${node.kind})`);
  return node.create(createNodeContext(options.name ?? node.kind, { ...options, kind: node.kind }));
}

/**
 * Turns a pipeline node into a plain RxJS operator over payloads: values are wrapped into
 * events, run through the node, and unwrapped. Error events are dropped from the output
 * (read them with {@link toOperator} instead).
 *
 * @example
 * ```ts
 * of(1, 2, 3).pipe(toPayloadOperator(nodes.map({ fn: (n: number) => n * 10 }))).subscribe(console.log);
 * ```
 */
export function toPayloadOperator<I = unknown, O = unknown>(node: NodeSpec, options: StandaloneOptions = {}): OperatorFunction<I, O> {
  const op = toOperator(node, options);
  const clock = options.scheduler ?? asyncScheduler;
  return (source) =>
    op(source.pipe(map((p) => createEvent(p, { time: clock.now() })))).pipe(
      filter((e) => !e.error),
      map((e) => e.payload as O),
    );
}
