import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { PartitionAssignment } from '../cluster/types';
import { TributaryError } from '../errors';
import { createEvent, eventAt, withError, type Event, type EventInit } from '../event';
import type { LogBindings, Logger, NodeContext, NodeProbe, NodeProgress, NodeStats, StateHandle } from '../nodes/types';
import type { Checkpointable } from '../state/types';
import { quietProbe } from './probe';

/**
 * Fresh zeroed counters.
 *
 * @example
 * ```ts
 * const stats = emptyStats();
 * const op = toOperator(nodes.where({ fn: isBig }), { stats });
 * ```
 */
export function emptyStats(): NodeStats {
  return { in: 0, out: 0, errors: 0, acked: 0, nacked: 0, dropped: 0 };
}

/**
 * A logger writing to stderr, the default for networks.
 *
 * @example
 * ```ts
 * new Network({ logger: { ...stderrLogger, warn: () => undefined } }); // errors only
 * ```
 */
export const stderrLogger: Logger = {
  warn: (m) => process.stderr.write(`tributary: warning: ${m}\n`),
  error: (m) => process.stderr.write(`tributary: error: ${m}\n`),
};

/**
 * The logger a node gets: `logger.child(bindings)` when the logger has a `child` function (a
 * pino logger: every line then carries `node` and `kind` as fields), else the logger itself
 * (a plain `{ warn, error }` object: messages name the node in their text).
 *
 * @example
 * ```ts
 * const log = childLogger(pino(), { node: 'bets', kind: 'file_source' });
 * log.warn('slow disk'); // {"level":40,"node":"bets","kind":"file_source","msg":"slow disk",…}
 * ```
 */
export function childLogger(logger: Logger, bindings: LogBindings): Logger {
  return typeof logger.child === 'function' ? logger.child(bindings) : logger;
}

/**
 * Builds the context a node gets: its name, scheduler, counters and settle helpers. The
 * network makes one per node; {@link toOperator} makes one to run a node outside a network.
 *
 * @example
 * ```ts
 * const ctx = createNodeContext('probe', { scheduler: testScheduler, kind: 'ratelimit' });
 * const op = nodes.ratelimit({ interval: '2s' }).create(ctx);
 * ```
 */
export function createNodeContext(
  name: string,
  opts: {
    scheduler?: SchedulerLike;
    logger?: Logger;
    stats?: NodeStats;
    services?: ReadonlyMap<string, unknown>;
    /** The node's kind: with `name`, the fields of its logger's child (`{ node, kind }`). */
    kind?: string;
    /** The node's line to the network's metrics (a quiet one by default). */
    probe?: NodeProbe;
    /**
     * Registers the node's state with the network's checkpoints; without it (no `state` option,
     * or a node run outside a network) state starts empty and events are acked at once.
     */
    registerState?: (ctx: NodeContext, state: Checkpointable) => StateHandle;
    /** The partition this instance owns in a group run. */
    partition?: PartitionAssignment;
  } = {},
): NodeContext {
  const scheduler = opts.scheduler ?? asyncScheduler;
  const probe = opts.probe ?? quietProbe();
  const stats = opts.stats ?? emptyStats();
  const services = opts.services ?? new Map<string, unknown>();
  const probes: (() => NodeProgress)[] = [];
  const ctx: NodeContext = {
    name,
    scheduler,
    stats,
    probe,
    logger: childLogger(opts.logger ?? stderrLogger, opts.kind === undefined ? { node: name } : { node: name, kind: opts.kind }),
    reportProgress(probe: () => NodeProgress): void {
      probes.push(probe);
    },
    progress(): NodeProgress | undefined {
      if (probes.length === 0) return undefined;
      return Object.assign({}, ...probes.map((p) => p())) as NodeProgress;
    },
    event<P>(payload: P, init?: EventInit): Event<P> {
      if (init === undefined) return eventAt(payload, scheduler.now());
      return createEvent(payload, init.time === undefined ? { ...init, time: scheduler.now() } : init);
    },
    fail<P>(event: Event<P>, cause: unknown): Event<P> {
      stats.errors++;
      const failed = withError(event, cause, name);
      probe.error(failed.error!.message);
      return failed;
    },
    ack(event: Event<unknown>): void {
      if (event.delivery && !event.delivery.settled) {
        stats.acked++;
        event.delivery.ack();
      }
    },
    nack(event: Event<unknown>, reason?: unknown): void {
      if (event.delivery && !event.delivery.settled) {
        stats.nacked++;
        event.delivery.nack(reason);
      }
    },
    service<T>(key: string): T {
      if (!services.has(key)) {
        throw new TributaryError(
          'STATE',
          `node '${name}' needs the service '${key}', which the network does not provide (net.provide('${key}', …))`,
        );
      }
      return services.get(key) as T;
    },
    drop(event: Event<unknown>): void {
      stats.dropped++;
      if (event.delivery && !event.delivery.settled) {
        stats.acked++;
        event.delivery.ack();
      }
    },
  };
  // Only a network that takes checkpoints offers it: without one a node keeps the stronger
  // settling it has on its own (a window acks an event with the result that includes it).
  if (opts.partition) (ctx as { partition?: PartitionAssignment }).partition = opts.partition;
  const register = opts.registerState;
  if (register) ctx.registerState = (state: Checkpointable): StateHandle => register(ctx, state);
  return ctx;
}
