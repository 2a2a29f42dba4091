import {
  Observable,
  Subject,
  merge,
  map,
  asyncScheduler,
  isObservable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { parseDuration, type Duration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import { withPayload, withoutError, type Event } from '../event';
import { observable as observableNode } from '../nodes/adapters';
import { createRegistry } from '../nodes/index';
import type { LazyPlugin, Plugin, ServiceProvider } from '../nodes/plugin';
import type { Registry } from '../nodes/registry';
import type { Logger, NodeContext, NodeSpec, NodeStats, Role } from '../nodes/types';
import { Broadcast, type Lane } from './broadcast';
import { OutCounter, SourceGate, countsOutput, viaSubscriber } from '../operators/subscriber';
import { createNodeContext, emptyStats, stderrLogger } from './context';
import { toDot, toTree, type GraphView } from './render';

/** Options of a {@link Network}. */
export interface NetworkOptions {
  /** Where all time comes from; a `TestScheduler` makes the whole network virtual-time. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** Node kinds `create()` can build; default the core kinds (`createRegistry()`). */
  registry?: Registry;
  /**
   * Plugins to add (their kinds, Lua functions and services), on a copy of `registry` when
   * one is given: `new Network({ plugins: [windowsPlugin({ url: 'sqlite:./tb.db' })] })`.
   */
  plugins?: readonly (Plugin | LazyPlugin)[];
  /** Where problems are reported; default stderr. */
  logger?: Logger;
  /** How long `stop()` waits for the drain before cutting everything off. Default `"30s"`. */
  drainTimeout?: Duration;
  /** Shared services nodes look up with `ctx.service(key)` (see {@link Network.provide}). */
  services?: Record<string, unknown>;
}

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

/** A graph as plain data, for `tributary graph --format json`. */
export interface NetworkJSON {
  nodes: { name: string; role: Role; kind: string }[];
  edges: { from: string; to: string; errors?: true }[];
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A network of named nodes wired with `link`, `fanout` and `fanin`, compiled to RxJS at
 * `start()`: a linear chain becomes one fused pipe, a node with several consumers a
 * broadcast that splits ack handles, a node with several inputs a `merge`.
 *
 * @example
 * ```ts
 * const net = new Network();
 * net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
 * net.add('tick_printer', nodes.tester({ indicator: '.' }));
 * net.link('ticker_500ms', 'tick_printer');
 * await net.start();
 * // … later
 * const report = await net.stop();
 * ```
 */
export class Network {
  readonly scheduler: SchedulerLike;
  readonly registry: Registry;
  readonly logger: Logger;
  private readonly drainTimeout: number;
  private readonly nodes = new Map<string, NodeSpec>();
  private readonly out = new Map<string, string[]>();
  private readonly inputs = new Map<string, string[]>();
  private readonly errorRoutes = new Map<string, string>();
  private readonly contexts = new Map<string, NodeContext>();
  private readonly services = new Map<string, unknown>();
  /** Services this network opened from a plugin's provider at start, closed after the drain. */
  private readonly opened: { key: string; provider: ServiceProvider; service: unknown }[] = [];
  private closing?: Promise<void>;
  private starting = false;
  private readonly inCounts = new Map<string, (() => number)[]>();
  private readonly subscriptions: Subscription[] = [];
  private readonly stop$ = new Subject<void>();
  private _state: NetworkState = 'building';
  private stopping?: Promise<NetworkReport>;
  private failure?: string;
  private timedOut = false;
  private isFinished = false;
  private readonly finishListeners: (() => void)[] = [];
  private readonly finishedPromise = new Promise<void>((resolve) => this.finishListeners.push(resolve));

  constructor(options: NetworkOptions = {}) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    const plugins = options.plugins ?? [];
    this.registry = options.registry ? (plugins.length ? options.registry.clone() : options.registry) : createRegistry();
    for (const p of plugins) this.registry.use(p);
    this.logger = options.logger ?? stderrLogger;
    this.drainTimeout = parseDuration(options.drainTimeout ?? '30s', 'drainTimeout');
    for (const [k, v] of Object.entries(options.services ?? {})) this.services.set(k, v);
  }

  /**
   * Makes a shared service available to nodes (`ctx.service(key)`): the window database, a
   * bus connection. Call before `start()`.
   *
   * @example
   * ```ts
   * net.provide('tributary.windows', windowStore);
   * ```
   */
  provide(key: string, service: unknown): this {
    this.assertBuilding(`provide service '${key}'`);
    this.services.set(key, service);
    return this;
  }

  /**
   * A service provided to this network, or undefined.
   *
   * @example
   * ```ts
   * const store = net.service<WindowStore>('tributary.windows');
   * ```
   */
  service<T>(key: string): T | undefined {
    return this.services.get(key) as T | undefined;
  }

  /** Where the network is in its life. */
  get state(): NetworkState {
    return this._state;
  }

  /**
   * Adds a node under a unique name. Takes a node from `nodes.*` or a registry, or a bare
   * Observable (a source of its values).
   *
   * @example
   * ```ts
   * net.add('numbers', of(1, 2, 3));
   * net.add('double', nodes.map({ fn: (n: number) => n * 2 }));
   * ```
   */
  add(name: string, node: NodeSpec | Observable<unknown>): this {
    this.assertBuilding(`add node '${name}'`);
    checkName(name);
    if (this.nodes.has(name)) throw new TributaryError('DUPLICATE_NODE', `node '${name}' already exists`);
    const spec = isObservable(node) ? observableNode(node) : node;
    if (!spec || typeof spec !== 'object' || !['source', 'pipeline', 'sink'].includes(spec.role) || typeof spec.create !== 'function') {
      throw new TributaryError('BAD_OPTION', `node '${name}': not a node (use nodes.*, a registry, or an Observable)`);
    }
    this.nodes.set(name, spec);
    this.out.set(name, []);
    this.inputs.set(name, []);
    return this;
  }

  /**
   * Builds a node of a registered kind from options and adds it (what the Lua `create_*`
   * functions do).
   *
   * @example
   * ```ts
   * net.create('ratelimit', 'filter_2s', { interval: '2s' });
   * ```
   */
  create(kind: string, name: string, options?: Record<string, unknown>): this {
    this.assertBuilding(`create node '${name}'`);
    checkName(name);
    if (this.nodes.has(name)) throw new TributaryError('DUPLICATE_NODE', `node '${name}' already exists`);
    let spec: NodeSpec;
    try {
      spec = this.registry.create(kind, options);
    } catch (e) {
      if (e instanceof TributaryError) throw new TributaryError(e.code, `node '${name}': ${e.message}`, { cause: e });
      throw e;
    }
    return this.add(name, spec);
  }

  /**
   * The node of that name, if any.
   *
   * @example
   * ```ts
   * net.get('ticker_500ms')?.role; // 'source'
   * ```
   */
  get(name: string): NodeSpec | undefined {
    return this.nodes.get(name);
  }

  /**
   * True if a node of that name exists.
   *
   * @example
   * ```ts
   * net.exists('ticker_500ms'); // true
   * ```
   */
  exists(name: string): boolean {
    return this.nodes.has(name);
  }

  /**
   * Connects `from`'s output to `to`'s input. Linking one node to several targets
   * broadcasts: every target gets every event (in the Go original they competed).
   *
   * @example
   * ```ts
   * net.link('ticker_500ms', 'forwarder1');
   * ```
   */
  link(from: string, to: string): this {
    this.assertBuilding(`link '${from}' -> '${to}'`);
    this.checkEdge(from, to);
    this.out.get(from)!.push(to);
    this.inputs.get(to)!.push(from);
    return this;
  }

  /**
   * Sends `from`'s events to every target.
   *
   * @example
   * ```ts
   * net.fanout('forwarder1', 'filter_2s', 'forwarder2');
   * ```
   */
  fanout(from: string, ...targets: string[]): this {
    if (targets.length === 0) throw new TributaryError('BAD_LINK', `fanout from '${from}': name at least one target`);
    for (const t of targets) this.checkEdge(from, t, true);
    for (const t of targets) this.link(from, t);
    return this;
  }

  /**
   * Merges every source's events into `to` (target first, as in the original).
   *
   * @example
   * ```ts
   * net.fanin('tick_printer', 'filter_2s', 'forwarder2');
   * ```
   */
  fanin(to: string, ...sources: string[]): this {
    if (sources.length === 0) throw new TributaryError('BAD_LINK', `fanin into '${to}': name at least one source`);
    for (const s of sources) this.checkEdge(s, to, true);
    for (const s of sources) this.link(s, to);
    return this;
  }

  /**
   * Diverts `from`'s error events to `to` (a dead-letter sink, a retry pipeline) instead of
   * sending them on with its other events.
   *
   * @example
   * ```ts
   * net.add('dead_letters', nodes.sink({ fn: (p) => dlq.push(p) }));
   * net.routeErrors('enrich', 'dead_letters');
   * ```
   */
  routeErrors(from: string, to: string): this {
    this.assertBuilding(`route errors '${from}' -> '${to}'`);
    this.checkEdge(from, to);
    if (this.errorRoutes.has(from)) {
      throw new TributaryError('BAD_LINK', `node '${from}' already routes its errors to '${this.errorRoutes.get(from)}'`);
    }
    this.errorRoutes.set(from, to);
    this.inputs.get(to)!.push(from);
    return this;
  }

  /**
   * True if the node lacks a connection its role needs: a source without output, a sink
   * without input, a pipeline without either. An unknown name is an error.
   *
   * @example
   * ```ts
   * net.isUnconnected('forwarder2'); // true until it is linked both ways
   * ```
   */
  isUnconnected(name: string): boolean {
    return this.missing(this.require(name)).length > 0;
  }

  /**
   * True if every node is connected as its role needs.
   *
   * @example
   * ```ts
   * if (!net.isConnected()) console.error(net.unconnected());
   * ```
   */
  isConnected(): boolean {
    return this.unconnected().length === 0;
  }

  /**
   * Why each unconnected node is unconnected, one message per missing side.
   *
   * @example
   * ```ts
   * net.unconnected(); // ["node 'forwarder2' (pipeline) has no output"]
   * ```
   */
  unconnected(): string[] {
    return [...this.nodes.keys()].flatMap((n) => this.missing(n));
  }

  /**
   * Outgoing edges per node (every node present, in insertion order); error routes are not
   * included (see {@link toJSON}).
   *
   * @example
   * ```ts
   * net.edges(); // { ticker_500ms: ['forwarder1'], forwarder1: ['filter_2s', 'forwarder2'], … }
   * ```
   */
  edges(): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const [k, v] of this.out) result[k] = [...v];
    return result;
  }

  /**
   * Checks the graph is complete; throws one error listing every problem.
   *
   * @example
   * ```ts
   * net.validate(); // throws "network is not connected: node 'x' (pipeline) has no output"
   * ```
   */
  validate(): void {
    if (this.nodes.size === 0) throw new TributaryError('UNCONNECTED', 'network has no nodes');
    const problems = this.unconnected();
    if (problems.length > 0) {
      throw new TributaryError('UNCONNECTED', `network is not connected: ${problems.join('; ')}`);
    }
  }

  /**
   * Validates, compiles the graph to RxJS and runs it. Sinks subscribe before any source
   * emits, so even a synchronous source loses nothing.
   *
   * @example
   * ```ts
   * await net.start();
   * ```
   */
  async start(): Promise<void> {
    this.assertBuilding('start');
    const providers = this.pendingServices();
    // Nothing to open: compile within this call, as callers on a virtual clock expect.
    if (providers.length === 0) return this.startSync();
    this.validate();
    this.starting = true;
    try {
      await this.openServices(providers);
      this.starting = false;
      this.startSync();
    } catch (e) {
      this.starting = false;
      await this.closeServices();
      throw e;
    }
  }

  /** Services nodes need that nobody provided but a plugin can open, with their providers. */
  private pendingServices(): { key: string; provider: ServiceProvider }[] {
    const needed = new Set<string>();
    for (const spec of this.nodes.values()) for (const key of spec.services ?? []) if (!this.services.has(key)) needed.add(key);
    const out: { key: string; provider: ServiceProvider }[] = [];
    // A key without a provider is left to the node's own lookup, which names the node and the key.
    for (const key of needed) {
      const provider = this.registry.serviceProvider(key);
      if (provider) out.push({ key, provider });
    }
    return out;
  }

  private async openServices(providers: { key: string; provider: ServiceProvider }[]): Promise<void> {
    for (const { key, provider } of providers) {
      let service: unknown;
      try {
        service = await provider.open();
      } catch (e) {
        throw new TributaryError('STATE', `cannot open service '${key}': ${errorMessage(e)}`, { cause: e });
      }
      this.opened.push({ key, provider, service });
      this.services.set(key, service);
    }
  }

  /** Closes what {@link openServices} opened, once, in reverse order; failures are logged. */
  private closeServices(): Promise<void> {
    this.closing ??= (async () => {
      for (const { key, provider, service } of this.opened.splice(0).reverse()) {
        try {
          await provider.close?.(service);
        } catch (e) {
          this.logger.error(`closing service '${key}' failed: ${errorMessage(e)}`);
        }
      }
    })();
    return this.closing;
  }

  /**
   * `start()` without the promise, for callers on a virtual clock (`TestScheduler.run`).
   *
   * @example
   * ```ts
   * testScheduler.run(() => { net.startSync(); });
   * ```
   */
  startSync(): void {
    this.assertBuilding('start');
    this.validate();
    this._state = 'running';
    try {
      this.compile();
    } catch (e) {
      this.teardown();
      this._state = 'stopped';
      this.finished();
      throw e;
    }
  }

  /**
   * Drains and stops: sources complete, in-flight events flow through, sinks finish, then it
   * resolves with what was processed. Past the drain timeout everything is cut off
   * (`timedOut: true`). Safe to call twice; both calls get the same report.
   *
   * @example
   * ```ts
   * const { stats, timedOut } = await net.stop();
   * ```
   */
  stop(options: { timeout?: Duration } = {}): Promise<NetworkReport> {
    if (this.stopping) return this.stopping;
    if (this._state === 'building' || this._state === 'stopped') {
      this._state = 'stopped';
      this.finished();
      return (this.stopping = this.closeServices().then(() => this.report()));
    }
    this._state = 'stopping';
    const timeout = parseDuration(options.timeout ?? this.drainTimeout, 'timeout');
    this.stopping = new Promise<NetworkReport>((resolve) => {
      const timer = this.scheduler.schedule(() => {
        this.timedOut = true;
        this.logger.warn(`drain did not finish within ${timeout}ms; cutting the network off`);
        this.teardown();
        this._state = 'stopped';
        this.finished();
      }, timeout);
      // Synchronously on finish, so a virtual clock never runs the timeout after a clean drain.
      this.onFinish(() => {
        timer.unsubscribe();
        void this.closeServices().then(() => resolve(this.report()));
      });
      this.stop$.next();
      this.stop$.complete();
    });
    return this.stopping;
  }

  /**
   * Resolves when every sink has completed: all sources ended on their own, or `stop()`.
   *
   * @example
   * ```ts
   * await net.start();
   * await net.done(); // a network of finite sources
   * ```
   */
  done(): Promise<NetworkReport> {
    return this.finishedPromise.then(() => this.closeServices()).then(() => this.report());
  }

  /**
   * Counters per node: events in and out, errors produced, acks, nacks and drops.
   *
   * @example
   * ```ts
   * net.stats().tick_printer.in; // 25
   * ```
   */
  stats(): Record<string, NodeStats> {
    const result: Record<string, NodeStats> = {};
    for (const name of this.nodes.keys()) {
      const stats = { ...(this.contexts.get(name)?.stats ?? emptyStats()) };
      const inputs = this.inCounts.get(name);
      if (inputs) stats.in = inputs.reduce((sum, count) => sum + count(), 0);
      result[name] = stats;
    }
    return result;
  }

  /**
   * Graphviz DOT of the graph.
   *
   * @example
   * ```ts
   * fs.writeFileSync('network.dot', net.toDot());
   * ```
   */
  toDot(): string {
    return toDot(this.view());
  }

  /**
   * The GoFlow-style text tree of the graph.
   *
   * @example
   * ```ts
   * console.log(net.toTree());
   * // ticker_500ms (c 1)
   * //  +--> forwarder1 (c 2)
   * ```
   */
  toTree(): string {
    return toTree(this.view());
  }

  /**
   * The graph as plain data.
   *
   * @example
   * ```ts
   * JSON.stringify(net.toJSON());
   * ```
   */
  toJSON(): NetworkJSON {
    const v = this.view();
    const edges: NetworkJSON['edges'] = [];
    for (const n of v.nodes) {
      for (const to of v.edges.get(n.name) ?? []) edges.push({ from: n.name, to });
      const err = v.errorRoutes.get(n.name);
      if (err) edges.push({ from: n.name, to: err, errors: true });
    }
    return { nodes: [...v.nodes], edges };
  }

  private view(): GraphView {
    return {
      nodes: [...this.nodes].map(([name, spec]) => ({ name, role: spec.role, kind: spec.kind })),
      edges: this.out,
      errorRoutes: this.errorRoutes,
    };
  }

  /**
   * What the network processed so far and how it ended: the same report `stop()` resolves
   * to, available synchronously (useful on a virtual clock).
   *
   * @example
   * ```ts
   * const { stats, timedOut, failure } = net.report();
   * ```
   */
  report(): NetworkReport {
    return { stats: this.stats(), timedOut: this.timedOut, ...(this.failure ? { failure: this.failure } : {}) };
  }

  private require(name: string): string {
    if (!this.nodes.has(name)) {
      const known = [...this.nodes.keys()];
      throw new TributaryError(
        'UNKNOWN_NODE',
        `unknown node '${name}'` + (known.length ? ` (nodes: ${known.join(', ')})` : ' (the network has no nodes yet)'),
      );
    }
    return name;
  }

  private missing(name: string): string[] {
    const role = this.nodes.get(name)!.role;
    const problems: string[] = [];
    const hasIn = this.inputs.get(name)!.length > 0;
    const hasOut = this.out.get(name)!.length > 0;
    if (role !== 'source' && !hasIn) problems.push(`node '${name}' (${role}) has no input`);
    if (role !== 'sink' && !hasOut) problems.push(`node '${name}' (${role}) has no output`);
    return problems;
  }

  private assertBuilding(what: string): void {
    if (this._state !== 'building') {
      throw new TributaryError('STATE', `cannot ${what}: the network is ${this._state} (wiring is fixed once started)`);
    }
    if (this.starting) throw new TributaryError('STATE', `cannot ${what}: the network is starting (opening its services)`);
  }

  private checkEdge(from: string, to: string, dryRun = false): void {
    if (!dryRun) this.assertBuilding(`link '${from}' -> '${to}'`);
    this.require(from);
    this.require(to);
    const a = this.nodes.get(from)!;
    const b = this.nodes.get(to)!;
    if (a.role === 'sink') throw new TributaryError('BAD_LINK', `cannot link '${from}' -> '${to}': '${from}' is a sink and has no output`);
    if (b.role === 'source') throw new TributaryError('BAD_LINK', `cannot link '${from}' -> '${to}': '${to}' is a source and takes no input`);
    if (from === to) throw new TributaryError('CYCLE', `cannot link '${from}' to itself: cycle ${from} -> ${from}`);
    if (this.out.get(from)!.includes(to) || this.errorRoutes.get(from) === to) {
      throw new TributaryError('BAD_LINK', `'${from}' is already linked to '${to}'`);
    }
    const path = this.pathBetween(to, from);
    if (path) {
      throw new TributaryError('CYCLE', `cannot link '${from}' -> '${to}': it would close the cycle ${[from, ...path].join(' -> ')}`);
    }
  }

  /** A path from `a` to `b` along edges and error routes, if there is one. */
  private pathBetween(a: string, b: string): string[] | undefined {
    const prev = new Map<string, string>();
    const queue = [a];
    const seen = new Set([a]);
    while (queue.length) {
      const n = queue.shift()!;
      if (n === b) {
        const path = [n];
        for (let p = prev.get(n); p !== undefined; p = prev.get(p)) path.unshift(p);
        return path;
      }
      for (const m of this.successors(n)) {
        if (!seen.has(m)) {
          seen.add(m);
          prev.set(m, n);
          queue.push(m);
        }
      }
    }
    return undefined;
  }

  /** Where a node's events go: its edges, then its error route. */
  private successors(n: string): string[] {
    const route = this.errorRoutes.get(n);
    const out = this.out.get(n) ?? [];
    return route === undefined ? out : [...out, route];
  }

  /** Nodes in topological order (every producer before its consumers). */
  private topoOrder(): string[] {
    const indegree = new Map<string, number>();
    for (const n of this.nodes.keys()) indegree.set(n, this.inputs.get(n)!.length);
    const ready = [...this.nodes.keys()].filter((n) => indegree.get(n) === 0);
    const order: string[] = [];
    while (ready.length) {
      const n = ready.shift()!;
      order.push(n);
      for (const m of this.successors(n)) {
        indegree.set(m, indegree.get(m)! - 1);
        if (indegree.get(m) === 0) ready.push(m);
      }
    }
    return order;
  }

  private compile(): void {
    const order = this.topoOrder();
    const outputs = new Map<string, Observable<Event>>();
    const broadcasts = new Map<string, Broadcast>();
    const stopped = this.stop$;
    const selfCounted = new Set<string>();

    for (const name of order) {
      const spec = this.nodes.get(name)!;
      const ctx = createNodeContext(name, { scheduler: this.scheduler, logger: this.logger, services: this.services });
      this.contexts.set(name, ctx);
      let raw: Observable<Event>;
      try {
        if (spec.role === 'source') {
          const make = spec.create;
          raw = new Observable<Event>((destination) => {
            const gate = new SourceGate<Event>(destination, ctx.stats, (err) =>
              this.logger.error(`source '${name}' failed and was closed: ${errorMessage(err)}`),
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
          raw = op(this.buildInput(name, outputs, broadcasts));
        }
      } catch (e) {
        throw new TributaryError('NODE_FAILED', `node '${name}' (${spec.kind}) failed to build: ${errorMessage(e)}`, { cause: e });
      }
      if (spec.role === 'sink') {
        outputs.set(name, raw);
        continue;
      }
      const counted = spec.role === 'source' || selfCounted.has(name) ? raw : countOut(raw, ctx.stats);
      const consumers = this.out.get(name)!.length + (this.errorRoutes.has(name) ? 1 : 0);
      if (consumers > 1) broadcasts.set(name, new Broadcast(counted));
      outputs.set(name, counted);
    }

    // Subscribe every sink first; then connect fan-out points from downstream to upstream,
    // so a synchronous source finds every consumer already listening.
    const sinks = order.filter((n) => this.nodes.get(n)!.role === 'sink');
    let open = sinks.length;
    for (const name of sinks) {
      this.subscriptions.push(
        outputs.get(name)!.subscribe({
          error: (err) => this.broken(name, err),
          complete: () => {
            if (--open === 0) this.allSinksDone();
          },
        }),
      );
    }
    for (const name of [...order].reverse()) {
      const b = broadcasts.get(name);
      if (b) this.subscriptions.push(b.connect());
    }
  }

  /** The stream a consumer reads: its producer's output, a broadcast branch, or a merge of them. */
  private buildInput(name: string, outputs: Map<string, Observable<Event>>, broadcasts: Map<string, Broadcast>): Observable<Event> {
    const inCounts: (() => number)[] = [];
    const streams = this.inputs.get(name)!.map((producer) => {
      const route = this.errorRoutes.get(producer);
      const lane: Lane = route === name ? 'error' : route !== undefined ? 'ok' : 'all';
      const b = broadcasts.get(producer);
      // Without a broadcast the consumer reads the producer's stream directly: the fused pipe.
      // Input counts are derived, not counted again: a direct link delivers exactly what the
      // producer emitted; a broadcast branch counts what it delivered.
      if (!b) {
        const producerStats = this.contexts.get(producer)!.stats;
        inCounts.push(() => producerStats.out);
        return outputs.get(producer)!;
      }
      const counter = { delivered: 0 };
      inCounts.push(() => counter.delivered);
      const branch = b.branch(lane, counter);
      return lane === 'error' ? branch.pipe(map(toDeadLetter)) : branch;
    });
    this.inCounts.set(name, inCounts);
    return streams.length === 1 ? streams[0] : merge(...streams);
  }

  private finished(): void {
    if (this.isFinished) return;
    this.isFinished = true;
    for (const listener of this.finishListeners.splice(0)) listener();
  }

  private onFinish(listener: () => void): void {
    if (this.isFinished) listener();
    else this.finishListeners.push(listener);
  }

  private allSinksDone(): void {
    this.teardown();
    this._state = 'stopped';
    this.finished();
  }

  private broken(node: string, err: unknown): void {
    this.failure = `network broke at '${node}': ${errorMessage(err)}`;
    this.logger.error(this.failure);
    this.teardown();
    this._state = 'stopped';
    this.finished();
  }

  private teardown(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }
}

/**
 * What a node on an error route receives: a plain event (same metadata and ack handle) whose
 * payload says what failed, where, and on which payload.
 */
export interface DeadLetter {
  error: string;
  node?: string;
  payload: unknown;
}

function toDeadLetter(e: Event): Event<DeadLetter> {
  const letter: DeadLetter = { error: e.error!.message, node: e.error!.node, payload: e.payload };
  return withoutError(withPayload(e, letter));
}

function checkName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TributaryError('BAD_OPTION', `node name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (RESERVED.has(name) || name.startsWith('$')) {
    throw new TributaryError('RESERVED_NAME', `node name '${name}' is reserved (names may not start with '$' or be __proto__, constructor, prototype)`);
  }
  if (/[\s\u0000-\u001f"]/.test(name)) {
    throw new TributaryError('BAD_OPTION', `node name ${JSON.stringify(name)} may not contain spaces, quotes or control characters`);
  }
}

function countOut(source: Observable<Event>, stats: NodeStats): Observable<Event> {
  return viaSubscriber(source, (d) => new OutCounter<Event>(d, stats));
}

