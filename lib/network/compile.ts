import { Observable, map, type SchedulerLike, type Subscription } from 'rxjs';
import type { PartitionAssignment } from '../cluster/types';
import { TributaryError, errorMessage } from '../errors';
import { withPayload, withoutError, type Event } from '../event';
import type { Logger, NodeContext, NodeProbe, NodeStats, StateHandle } from '../nodes/types';
import type { Checkpointable } from '../state/types';
import { OutCounter, SourceGate, countsOutput, viaSubscriber } from '../operators/subscriber';
import { trampoline } from '../operators/trampoline';
import { fusableStep, type FusableStep } from '../nodes/stage';
import { Broadcast, fanIn, type Lane } from './broadcast';
import { createNodeContext } from './context';
import { fuse } from './fuse';
import type { Graph } from './graph';

/**
 * What a node on an error route receives: a plain event (same metadata and ack handle) whose
 * payload says what failed, where, and on which payload.
 *
 * @example
 * ```ts
 * net.add('dead_letters', nodes.sink({ fn: (l: DeadLetter) => console.error(`${l.node}: ${l.error}`) }));
 * net.routeErrors('enrich', 'dead_letters');
 * ```
 */
export interface DeadLetter {
  error: string;
  /** What failed, as a word to test rather than a message to parse (see `EventError.code`): `LATE_EVENT` for a late event; absent when the error had none. */
  code?: string;
  node?: string;
  payload: unknown;
}

/** What the compiled network needs from the one that runs it. */
export interface CompileEnv {
  scheduler: SchedulerLike;
  logger: Logger;
  /** Each node's probe (metrics: sampled timings, gauges, last errors). */
  probe?: (name: string) => NodeProbe;
  /** Read by the node contexts when a node looks a service up, so later additions are seen. */
  services: ReadonlyMap<string, unknown>;
  /** Emits when the network stops: every source is closed and the drain begins. */
  stop$: Observable<void>;
  /** A sink's stream errored: the network is broken. */
  broken(node: string, err: unknown): void;
  /** Every sink completed. */
  allSinksDone(): void;
  /** Fuse runs of fusable nodes into one subscriber (default true); false compiles every node on its own. */
  fusion?: boolean;
  /** The checkpoint coordinator's registration, when the network has a `state` option. */
  registerState?: (ctx: NodeContext, state: Checkpointable) => StateHandle;
  /** The partition this instance owns in a group run (`ctx.partition`). */
  partition?: PartitionAssignment;
}

/**
 * Where compiling leaves what the network reads and tears down later. The caller owns these
 * and passes them in rather than receiving them at the end, because a build that fails half
 * way must still be torn down and counted, and a synchronous network can finish (and tear
 * down) before `compile` returns.
 */
export interface Compiled {
  /** Each node's context (its counters live there), filled in topological order. */
  readonly contexts: Map<string, NodeContext>;
  /** How to read each consumer's input count, one reader per producer. */
  readonly inCounts: Map<string, (() => number)[]>;
  /** Sink subscriptions and broadcast connections. */
  readonly subscriptions: Subscription[];
}

/**
 * Turns a validated graph into running RxJS subscriptions. A linear chain is one fused pipe
 * (each operator reads its producer's observable directly, nothing in between); a node with
 * several consumers gets a {@link Broadcast}; a node with several inputs reads a {@link fanIn}.
 * Consecutive fusable nodes (map, where, tap, interceptor, forwarder, function sinks with
 * concurrency 1: see {@link FusableStep}) linked one to one become ONE subscriber that runs
 * their steps in a loop per event (see {@link fuse}), unless `env.fusion` is false.
 * Sinks subscribe first and broadcasts connect from downstream to upstream, so a
 * synchronous source finds every consumer already listening.
 *
 * @example
 * ```ts
 * const compiled = { contexts: new Map(), inCounts: new Map(), subscriptions: [] };
 * graph.validate();
 * compile(graph, { scheduler, logger, services, stop$, broken, allSinksDone }, compiled);
 * ```
 */
export function compile(graph: Graph, env: CompileEnv, into: Compiled): void {
  const order = graph.topoOrder();
  const outputs = new Map<string, Observable<Event>>();
  const broadcasts = new Map<string, Broadcast>();
  const stopped = env.stop$;
  const selfCounted = new Set<string>();
  // Synchronous nodes in a row since the last trampoline: each one nests a few stack frames
  // per event (and per subscribe and unsubscribe), so a long chain would overflow the stack.
  const depth = new Map<string, number>();
  // Open fused runs, by the node at their end: a fusable node whose only input is that node
  // (and is that node's only consumer) joins the run instead of subscribing on its own.
  const runs = new Map<string, FusableStep[]>();
  const fusedRaw = new Map<FusableStep[], Observable<Event>>();
  const fusion = env.fusion !== false;

  for (const name of order) {
    const spec = graph.nodes.get(name)!;
    const ctx = createNodeContext(name, {
      scheduler: env.scheduler,
      logger: env.logger,
      services: env.services,
      kind: spec.kind,
      probe: env.probe?.(name),
      registerState: env.registerState,
      partition: env.partition,
    });
    into.contexts.set(name, ctx);
    let raw: Observable<Event>;
    try {
      if (spec.role === 'source') {
        const make = spec.create;
        raw = new Observable<Event>((destination) => {
          const gate = new SourceGate<Event>(destination, ctx.stats, (err) =>
            ctx.logger.error(`source '${name}' failed and was closed: ${errorMessage(err)}`),
          );
          // Stopping completes the gate, which unsubscribes the source: in-flight events
          // downstream still flow and settle.
          const stop = stopped.subscribe(() => gate.complete());
          gate.add(stop);
          if (!gate.closed) make(ctx).subscribe(gate);
          return gate;
        });
      } else {
        const op = spec.create(ctx) as (s: Observable<Event>) => Observable<Event>;
        if (countsOutput(op)) selfCounted.add(name);
        const step = fusion ? fusableStep(op) : undefined;
        const inputs = graph.inputs.get(name)!;
        const d = inputs.reduce((m, p) => Math.max(m, depth.get(p) ?? 0), 0) + 1;
        const producer = inputs.length === 1 ? inputs[0] : undefined;
        const run =
          step && producer !== undefined && d < TRAMPOLINE_EVERY && soleConsumer(graph, producer) ? runs.get(producer) : undefined;
        if (step && run) {
          // Joins the producer's fused run: one subscriber for both.
          run.push(step);
          runs.delete(producer!);
          runs.set(name, run);
          const producerStats = into.contexts.get(producer!)!.stats;
          into.inCounts.set(name, [() => producerStats.out]);
          depth.set(name, d);
          selfCounted.add(name);
          raw = fusedRaw.get(run)!;
        } else {
          let input = buildInput(name, graph, outputs, broadcasts, into);
          if (d >= TRAMPOLINE_EVERY) input = input.pipe(trampoline());
          depth.set(name, d >= TRAMPOLINE_EVERY ? 0 : d);
          if (step) {
            // Starts a fused run (the fused subscriber counts each step's output itself).
            const steps = [step];
            runs.set(name, steps);
            raw = fuse(input, steps);
            fusedRaw.set(steps, raw);
            selfCounted.add(name);
          } else raw = op(input);
        }
      }
    } catch (e) {
      throw new TributaryError('NODE_FAILED', `node '${name}' (${spec.kind}) failed to build: ${errorMessage(e)}`, { cause: e });
    }
    if (spec.role === 'sink') {
      outputs.set(name, raw);
      continue;
    }
    // Sources count in their gate and some operators count themselves: no extra layer then.
    const counted = spec.role === 'source' || selfCounted.has(name) ? raw : countOut(raw, ctx.stats);
    const consumers = graph.out.get(name)!.length + (graph.errorRoutes.has(name) ? 1 : 0);
    if (consumers > 1) broadcasts.set(name, new Broadcast(counted));
    outputs.set(name, counted);
  }

  const sinks = order.filter((n) => graph.nodes.get(n)!.role === 'sink');
  let open = sinks.length;
  for (const name of sinks) {
    into.subscriptions.push(
      outputs.get(name)!.subscribe({
        error: (err) => env.broken(name, err),
        complete: () => {
          if (--open === 0) env.allSinksDone();
        },
      }),
    );
  }
  for (const name of [...order].reverse()) {
    const b = broadcasts.get(name);
    if (b) into.subscriptions.push(b.connect());
  }
}

/** True when `producer` feeds exactly one consumer directly (no broadcast, no error route). */
function soleConsumer(graph: Graph, producer: string): boolean {
  return graph.out.get(producer)!.length === 1 && !graph.errorRoutes.has(producer);
}

/** How many nodes of a chain run nested before a trampoline unwinds the stack (see compile). */
export const TRAMPOLINE_EVERY = 128;

/** The stream a consumer reads: its producer's output, a broadcast branch, or a fan-in of them. */
function buildInput(
  name: string,
  graph: Graph,
  outputs: Map<string, Observable<Event>>,
  broadcasts: Map<string, Broadcast>,
  into: Compiled,
): Observable<Event> {
  const inCounts: (() => number)[] = [];
  const streams = graph.inputs.get(name)!.map((producer) => {
    const route = graph.errorRoutes.get(producer);
    const lane: Lane = route === name ? 'error' : route !== undefined ? 'ok' : 'all';
    const b = broadcasts.get(producer);
    // Without a broadcast the consumer reads the producer's stream directly: the fused pipe.
    // Input counts are derived, not counted again: a direct link delivers exactly what the
    // producer emitted; a broadcast branch counts what it delivered.
    if (!b) {
      const producerStats = into.contexts.get(producer)!.stats;
      inCounts.push(() => producerStats.out);
      return outputs.get(producer)!;
    }
    const counter = { delivered: 0 };
    inCounts.push(() => counter.delivered);
    const branch = b.branch(lane, counter);
    return lane === 'error' ? branch.pipe(map(toDeadLetter)) : branch;
  });
  into.inCounts.set(name, inCounts);
  return streams.length === 1 ? streams[0] : fanIn(streams);
}

function toDeadLetter(e: Event): Event<DeadLetter> {
  const { message, code, node } = e.error!;
  const letter: DeadLetter =
    code === undefined ? { error: message, node, payload: e.payload } : { error: message, code, node, payload: e.payload };
  return withoutError(withPayload(e, letter));
}

function countOut(source: Observable<Event>, stats: NodeStats): Observable<Event> {
  return viaSubscriber(source, (d) => new OutCounter<Event>(d, stats));
}
