import { Subject, type SchedulerLike } from 'rxjs';
import type { PartitionAssignment } from '../cluster/types';
import { parseTimer, type Duration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import type { Registry } from '../nodes/registry';
import type { Logger, NodeProgress, NodeStats } from '../nodes/types';
import type { Checkpoints } from './checkpoint';
import { compile, type CompileEnv, type Compiled } from './compile';
import { emptyStats } from './context';
import type { Graph } from './graph';
import { NetworkProbe } from './probe';
import type { NetworkServices } from './services';

/** Where a network is in its life. */
export type NetworkState = 'building' | 'running' | 'stopping' | 'stopped';

/** What `stop()` resolves to: what was processed and how the drain went. */
export interface NetworkReport {
  /** Counters per node. */
  stats: Record<string, NodeStats>;
  /** True when the drain did not finish within the timeout and the network was cut off. */
  timedOut: boolean;
  /** Set when the network broke (an RxJS error, which nodes never raise for one event). */
  failure?: string;
}

/** The fixed parts of a network a lifecycle works with. */
export interface LifecycleParts {
  graph: Graph;
  services: NetworkServices;
  registry: Registry;
  scheduler: SchedulerLike;
  logger: Logger;
  /** Default drain timeout in ms. */
  drainTimeout: number;
  /** Time 1 in this many node calls for the processing-time histogram; 0: no timing. */
  sampleEvery: number;
  /** Fuse runs of fusable nodes (see compile); default true. */
  fusion?: boolean;
  /** The checkpoint coordinator of the `state` option. */
  checkpoints?: Checkpoints;
  /** The partition this instance owns in a group run (`ctx.partition`). */
  partition?: PartitionAssignment;
}

/**
 * A network's life from building to stopped: when the graph may change, opening services,
 * compiling, draining on stop, and the report at the end. There is one way into 'stopped'
 * however it happens (all sinks done, broken, cut off at the drain timeout, a failed build),
 * so every exit tears down and reports alike. The {@link Network} is the public face of it.
 *
 * @example
 * ```ts
 * const life = new Lifecycle({ graph, services, registry, scheduler, logger, drainTimeout: 30_000 });
 * await life.start();
 * const report = await life.stop();
 * ```
 */
export class Lifecycle {
  private _state: NetworkState = 'building';
  /** True while `start()` awaits its services: the graph is frozen, nothing runs yet. */
  private starting = false;
  private readonly compiled: Compiled = { contexts: new Map(), inCounts: new Map(), subscriptions: [] };
  private readonly stop$ = new Subject<void>();
  private stopping?: Promise<NetworkReport>;
  private failure?: string;
  private timedOut = false;
  /** Opens when the network stopped running, however that happened. */
  private readonly finished = new Latch();
  private readonly probes = new Map<string, NetworkProbe>();

  constructor(private readonly parts: LifecycleParts) {}

  /** Where the network is in its life. */
  get state(): NetworkState {
    return this._state;
  }

  /**
   * Throws unless the graph may still change; `what` names the refused change.
   *
   * @example
   * ```ts
   * life.assertBuilding(`add node '${name}'`);
   * ```
   */
  assertBuilding(what: string): void {
    if (this._state !== 'building') {
      throw new TributaryError('STATE', `cannot ${what}: the network is ${this._state} (wiring is fixed once started)`);
    }
    if (this.starting) throw new TributaryError('STATE', `cannot ${what}: the network is starting (opening its services)`);
  }

  /**
   * Opens the services nodes need (if any), then {@link startSync}. A failure to open closes
   * what was opened and leaves the network building.
   *
   * @example
   * ```ts
   * await life.start();
   * ```
   */
  async start(): Promise<void> {
    this.assertBuilding('start');
    const { graph, services, registry, checkpoints } = this.parts;
    const providers = services.pending(graph.nodes.values(), registry);
    // Nothing to open: compile within this call, as callers on a virtual clock expect.
    if (providers.length === 0 && (!checkpoints || checkpoints.isLoaded)) return this.startSync();
    graph.validate();
    this.starting = true;
    try {
      // The last checkpoint is read before any node is built: states restore as they register.
      await checkpoints?.load();
      await services.open(providers);
      this.starting = false;
      this.startSync();
    } catch (e) {
      this.starting = false;
      await services.close();
      throw e;
    }
  }

  /**
   * Validates, compiles and runs, all within this call.
   *
   * @example
   * ```ts
   * testScheduler.run(() => life.startSync());
   * ```
   */
  startSync(): void {
    this.assertBuilding('start');
    this.parts.graph.validate();
    this._state = 'running';
    try {
      compile(this.parts.graph, this.env(), this.compiled);
    } catch (e) {
      this.end();
      throw e;
    }
    if (this._state === 'running') this.parts.checkpoints?.start();
  }

  /** After the network stopped: the last checkpoint, then the services close. */
  private closeAll(): Promise<void> {
    const { checkpoints, services, logger } = this.parts;
    if (!checkpoints) return services.close();
    return checkpoints
      .finish()
      .catch((e: unknown) => logger.error(`the last checkpoint failed: ${errorMessage(e)}`))
      .then(() => services.close());
  }

  /**
   * Drains (sources close, in-flight events settle) and resolves with the report; past the
   * timeout everything is cut off. The second call gets the first call's promise.
   *
   * @example
   * ```ts
   * const { timedOut } = await life.stop({ timeout: '5s' });
   * ```
   */
  stop(options: { timeout?: Duration } = {}): Promise<NetworkReport> {
    if (this.stopping) return this.stopping;
    const { scheduler, logger } = this.parts;
    if (this._state === 'building' || this._state === 'stopped') {
      this._state = 'stopped';
      this.finished.open();
      return (this.stopping = this.closeAll().then(() => this.report()));
    }
    this._state = 'stopping';
    const timeout = parseTimer(options.timeout ?? this.parts.drainTimeout, 'timeout');
    this.stopping = new Promise<NetworkReport>((resolve) => {
      const timer = scheduler.schedule(() => {
        this.timedOut = true;
        logger.warn(`drain did not finish within ${timeout}ms; cutting the network off`);
        this.end();
      }, timeout);
      // Synchronously on finish, so a virtual clock never runs the timeout after a clean drain.
      this.finished.onOpen(() => {
        timer.unsubscribe();
        void this.closeAll().then(() => resolve(this.report()));
      });
      // Events held for a checkpoint are acked sooner: sources waiting for them can close.
      if (this.parts.checkpoints?.isLoaded) void this.parts.checkpoints.checkpoint();
      this.stop$.next();
      this.stop$.complete();
    });
    return this.stopping;
  }

  /**
   * Resolves once the network stopped and its services are closed.
   *
   * @example
   * ```ts
   * const report = await life.done();
   * ```
   */
  done(): Promise<NetworkReport> {
    return this.finished.promise.then(() => this.closeAll()).then(() => this.report());
  }

  /**
   * Counters per node; zero for a node that was never built. Input counts are read from
   * their producers or broadcast branches rather than counted again (see `compile`).
   *
   * @example
   * ```ts
   * life.stats().sum.in;
   * ```
   */
  stats(): Record<string, NodeStats> {
    const result: Record<string, NodeStats> = {};
    for (const name of this.parts.graph.nodes.keys()) {
      const stats = { ...(this.compiled.contexts.get(name)?.stats ?? emptyStats()) };
      const inputs = this.compiled.inCounts.get(name);
      if (inputs) stats.in = inputs.reduce((sum, count) => sum + count(), 0);
      result[name] = stats;
    }
    return result;
  }

  /**
   * What the running nodes say of their progress (see `NodeContext.reportProgress`), for
   * the nodes that report any.
   *
   * @example
   * ```ts
   * life.progress().bets?.read;
   * ```
   */
  progress(): Record<string, NodeProgress> {
    const result: Record<string, NodeProgress> = {};
    for (const [name, ctx] of this.compiled.contexts) {
      const p = ctx.progress();
      if (p) result[name] = p;
    }
    return result;
  }

  /**
   * The report as of now.
   *
   * @example
   * ```ts
   * life.report().failure;
   * ```
   */
  report(): NetworkReport {
    return { stats: this.stats(), timedOut: this.timedOut, ...(this.failure ? { failure: this.failure } : {}) };
  }

  /**
   * The probe of a node (sampled timings, gauges, last errors), made on first use.
   *
   * @example
   * ```ts
   * life.probe('enrich').reading().errors;
   * ```
   */
  probe(name: string): NetworkProbe {
    let p = this.probes.get(name);
    if (!p) this.probes.set(name, (p = new NetworkProbe(this.parts.sampleEvery)));
    return p;
  }

  /** What compiling needs; its callbacks fire at most once, off the hot path. */
  private env(): CompileEnv {
    const { scheduler, logger, services } = this.parts;
    return {
      scheduler,
      logger,
      probe: (name) => this.probe(name),
      services: services.map,
      stop$: this.stop$,
      broken: (node, err) => {
        this.failure = `network broke at '${node}': ${errorMessage(err)}`;
        logger.error(this.failure);
        this.end();
      },
      allSinksDone: () => this.end(),
      fusion: this.parts.fusion,
      ...(this.parts.partition ? { partition: this.parts.partition } : {}),
      ...(this.parts.checkpoints ? { registerState: this.parts.checkpoints.register.bind(this.parts.checkpoints) } : {}),
    };
  }

  /** The common end of every way out: cut every subscription, mark stopped, tell the waiters. */
  private end(): void {
    for (const s of this.compiled.subscriptions.splice(0)) s.unsubscribe();
    this._state = 'stopped';
    // The last checkpoint starts now, whether or not anybody waits for the network.
    if (this.parts.checkpoints?.isLoaded) void this.parts.checkpoints.finish().catch(() => undefined);
    this.finished.open();
  }
}

/**
 * A one-shot signal whose listeners run synchronously when it opens (or at once if it is
 * open), unlike a promise's: on a virtual clock, a network that finished must cancel its
 * drain timer before the scheduler could run it.
 */
class Latch {
  private isOpen = false;
  private readonly listeners: (() => void)[] = [];
  /** Resolves once the latch opens, for callers who can wait a microtask. */
  readonly promise = new Promise<void>((resolve) => this.listeners.push(resolve));

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    for (const listener of this.listeners.splice(0)) listener();
  }

  onOpen(listener: () => void): void {
    if (this.isOpen) listener();
    else this.listeners.push(listener);
  }
}
