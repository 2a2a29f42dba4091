import type { Observable, OperatorFunction, SchedulerLike } from 'rxjs';
import type { PartitionAssignment } from '../cluster/types';
import type { Event, EventInit } from '../event';
import type { Checkpointable } from '../state/types';

/** The three roles a node can play. */
export type Role = 'source' | 'pipeline' | 'sink';

/** Counters a node keeps while the network runs. */
export interface NodeStats {
  /** Events that reached the node. */
  in: number;
  /** Events the node emitted (sinks emit none). */
  out: number;
  /** Error events the node produced (its own failures, not ones passing through). */
  errors: number;
  /** Deliveries the node acked (drops, sinks). */
  acked: number;
  /** Deliveries the node nacked (failures at sinks). */
  nacked: number;
  /** Events the node dropped on purpose (filters, rate limits, dedupe). */
  dropped: number;
}

/**
 * Where a network reports problems that are not any one event's (and error events at sinks).
 * Any pino logger fits, and so does a plain `{ warn, error }` object. When the logger has a
 * `child` function, the network gives each node `logger.child({ node, kind })`, so every line
 * a node writes carries its name and kind as fields.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  /** Lifecycle lines (started, stopped); optional, called as `logger.info?.(…)`. */
  info?(message: string): void;
  /** Detail for debugging; optional, called as `logger.debug?.(…)`. */
  debug?(message: string): void;
  /** A logger adding `bindings` as fields to every line (pino's `child`). */
  child?(bindings: LogBindings): Logger;
}

/** The fields a node's logger adds to each of its lines. */
export interface LogBindings {
  node?: string;
  kind?: string;
  [field: string]: unknown;
}

/**
 * How far a node is through its input, as far as it can tell: a file source knows the bytes
 * it read of the file's size; a source that tracks deliveries knows its events in flight; a
 * bus consumer may know how many messages are waiting. Every field is optional.
 */
export interface NodeProgress {
  /** Events emitted and not yet settled (acked or nacked). */
  inFlight?: number;
  /** How much of the input has been consumed, in `unit`s (bytes of a file). */
  read?: number;
  /** The whole input in `unit`s, when known (a file's size at open). */
  total?: number;
  /** How much is known to be waiting, in `unit`s (messages pending on a bus); for a file, total − read. */
  lag?: number;
  /** What `read`, `total` and `lag` count: `'bytes'`, `'messages'`. */
  unit?: string;
}

/**
 * What a node sees of the network when it is built at `start()`: its name, the network's
 * scheduler (all time comes from here), its counters and helpers that keep them right.
 */
export interface NodeContext {
  readonly name: string;
  readonly scheduler: SchedulerLike;
  readonly stats: NodeStats;
  readonly logger: Logger;
  /** A new event stamped with the scheduler's time. */
  event<P>(payload: P, init?: EventInit): Event<P>;
  /** Derives an error event naming this node and counts it. */
  fail<P>(event: Event<P>, cause: unknown): Event<P>;
  /** Acks the event's delivery and counts it. */
  ack(event: Event<unknown>): void;
  /** Nacks the event's delivery and counts it. */
  nack(event: Event<unknown>, reason?: unknown): void;
  /** Acks a dropped event and counts the drop. */
  drop(event: Event<unknown>): void;
  /**
   * A shared service the network provides (the window database, a bus connection …); a
   * missing one is an error naming this node and the key.
   */
  service<T>(key: string): T;
  /**
   * Registers a probe telling how far the node is (see {@link NodeProgress}); the progress line
   * and metrics call it when they refresh, so it must be cheap. Several probes may be
   * registered (the flow machinery reports events in flight, the file reader bytes read):
   * their answers are merged, later ones winning.
   */
  reportProgress(probe: () => NodeProgress): void;
  /** What the node's probes say now, merged; undefined when it registered none. */
  progress(): NodeProgress | undefined;
  /** What the node tells the network's metrics beyond its counters (always present in a network). */
  readonly probe: NodeProbe;
  /**
   * Registers in-memory state for checkpoints (lib/state). The network restores it before the
   * first event and saves its changes periodically and at drain. The handle's
   * `settleAfterCheckpoint(event)` acks an event absorbed into that state only once a
   * checkpoint holding it is written. Absent when the network takes no checkpoints (no `state`
   * option) and outside a network: the node then settles events itself, as it would without
   * state (a window acks an event with the result that includes it; in-memory state is lost
   * with the process, so acking at absorption would lose events).
   */
  registerState?(state: Checkpointable): StateHandle;
  /**
   * The partition this network instance owns in a partitioned group run (docs/scale-out.md);
   * absent otherwise. A JetStream `nats_source` reads only its partition's subject.
   */
  readonly partition?: PartitionAssignment;
}

/** What {@link NodeContext.registerState} returns. */
export interface StateHandle {
  /**
   * Acks `event` once the state that includes it is checkpointed. A failed checkpoint is retried
   * at the next one (the events wait); only when the network's last checkpoint fails are they nacked.
   */
  settleAfterCheckpoint(event: Event<unknown>): void;
  /**
   * Call before applying an event's effect to this state. False when the state already
   * includes the event: its source position (see `POSITION_HEADER` in lib/state/types) is one
   * this state absorbed, restored from the last checkpoint or admitted since — a redelivery
   * after a crash. Then skip its effect and still `settleAfterCheckpoint` it. True otherwise
   * (always for events without a position), and the position is recorded as absorbed: admit an
   * event only when its effect is applied.
   */
  admit(event: Event<unknown>): boolean;
}

/**
 * A node's line to the network's metrics: sampled processing times, gauges read when metrics
 * are scraped, and its last error messages. Cheap by design: `sample()` is a counter bump on
 * the events that are not sampled, gauges cost nothing until read.
 *
 * @example
 * ```ts
 * create: (ctx) => {
 *   ctx.probe.gauge('queue_depth', 'events waiting for a worker', () => queue.length);
 *   const done = ctx.probe.sample(); // undefined unless this call is sampled
 *   work();
 *   done?.();
 *   ctx.probe.finished(); // a sink: this event is done
 * }
 * ```
 */
export interface NodeProbe {
  /** Starts timing this call if it is sampled (1 in N, only with metrics on); call the result when the work is done. */
  sample(): (() => void) | undefined;
  /**
   * Publishes a gauge of this node (`queue_depth`, `rows`, `lag`, `bytes_left` …), read on
   * scrape: `tributary_node_<name>{node, kind}`. A second gauge of the same name replaces the first.
   */
  gauge(name: string, help: string, read: () => number): void;
  /** Records an error message of this node (the live page shows the last few). */
  error(message: string): void;
  /** A sink finished with one event (acked, nacked or failed): its in-flight count is `in` minus these. */
  finished(): void;
}

/** A source: an observable of events, built when the network starts. */
export interface SourceNode {
  readonly role: 'source';
  /** The registry kind, or a descriptive word for ad-hoc nodes. */
  readonly kind: string;
  readonly create: (ctx: NodeContext) => Observable<Event>;
  /** Services (`ctx.service(key)`) the node needs; the network opens providers for them at start. */
  readonly services?: readonly string[];
}

/** A pipeline: an operator from events to events. */
export interface PipelineNode {
  readonly role: 'pipeline';
  readonly kind: string;
  readonly create: (ctx: NodeContext) => OperatorFunction<Event, Event>;
  readonly services?: readonly string[];
}

/**
 * A sink: an operator that consumes events and completes once every event it received has
 * been handled (that completion is what `stop()` waits for). What it emits is ignored.
 */
export interface SinkNode {
  readonly role: 'sink';
  readonly kind: string;
  readonly create: (ctx: NodeContext) => OperatorFunction<Event, unknown>;
  readonly services?: readonly string[];
}

/** Any node a network can hold. */
export type NodeSpec = SourceNode | PipelineNode | SinkNode;
