import type { Registry as PromRegistry } from 'prom-client';
import type { PartitionAssignment } from '../cluster/types';
import type { OpsServer, OpsServerOptions } from '../observe/server';
import { asyncScheduler, isObservable, type Observable, type SchedulerLike } from 'rxjs';
import { parseTimer, type Duration } from '../duration';
import { suggest } from '../util/suggest';
import { TributaryError } from '../errors';
import { observable as observableNode } from '../nodes/adapters';
import { createRegistry } from '../nodes/index';
import type { LazyPlugin, Plugin } from '../nodes/plugin';
import type { Registry } from '../nodes/registry';
import type { Logger, NodeProgress, NodeSpec, NodeStats, Role } from '../nodes/types';
import { redactOptions } from '../util/redact';
import { Checkpoints, type CheckpointStats, type StateOptions } from './checkpoint';
import { stderrLogger } from './context';
import { Graph, type NetworkJSON } from './graph';
import { Lifecycle, type NetworkReport, type NetworkState } from './lifecycle';
import { toDot, toTree } from './render';
import { NetworkServices } from './services';
import { nodeSnapshot, type NetworkSnapshot } from './snapshot';

export type { DeadLetter } from './compile';
export type { NetworkJSON } from './graph';
export type { NetworkReport, NetworkState } from './lifecycle';
export type { CheckpointStats, StateOptions } from './checkpoint';

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
  /**
   * Time node calls for the processing-time histogram of {@link Network.snapshot} and
   * `networkMetrics()`: `true` samples the first call and then 1 in 256, `{ sampleEvery: n }` 1 in n. Counters,
   * gauges and last errors are kept either way. Default off.
   */
  metrics?: boolean | { sampleEvery?: number };
  /**
   * Serve the operations port while the network runs (see `startOpsServer` in
   * `tributary/observe`): `/metrics`, `/healthz`, `/readyz`, the live page. It opens in
   * `start()` and closes once the network stopped. Turns `metrics` on unless it is given.
   */
  http?: OpsServerOptions;
  /**
   * Fuse consecutive fusable nodes (map, where, tap, interceptor, forwarder and function
   * sinks with concurrency 1, linked one to one) into one subscriber that runs them in a loop
   * per event. Counters, acks, error events and metrics are the same either way; `false`
   * compiles every node on its own (one RxJS subscriber and worker pool per node), for
   * debugging or to compare. Default `true`.
   */
  fusion?: boolean;
  /**
   * Checkpoint the state of stateful nodes (keyed state, windows) to a store: restored before
   * the first event, written periodically and at the end, events acked only once the state
   * that includes them is written (see docs/state.md).
   *
   * @example
   * ```ts
   * new Network({ state: { store: await openStateStore('sqlite:./state.db'), checkpointInterval: '1s' } });
   * ```
   */
  state?: StateOptions;
  /**
   * Let nodes run executables (agglo's `spawn`, transforms through a program). Default false:
   * such nodes refuse to start. The CLI sets it with `--allow-exec`. Nodes see it as the
   * service `tributary.allow-exec` (true).
   */
  allowExec?: boolean;
  /**
   * The partition this network instance owns in a partitioned group run (docs/scale-out.md);
   * nodes read it as `ctx.partition`. Set by `tributary run --group` and `tributary agent`.
   *
   * @example
   * ```ts
   * new Network({ partition: { group: 'bets', index: 3, count: 16, epoch: 41 } });
   * ```
   */
  partition?: PartitionAssignment;
}

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
  // This class is the public face only: the wiring is data in `graph` (graph.ts), checked as
  // it is made; `life` (lifecycle.ts) guards when it may change, opens `services` and runs it,
  // compiled to RxJS by compile.ts.
  private readonly graph = new Graph();
  private readonly services: NetworkServices;
  private readonly life: Lifecycle;
  private registry_?: PromRegistry;
  private readonly http?: OpsServerOptions;
  private ops?: Promise<OpsServer>;
  /** The options each node was created with (`create()`), for {@link describe}. */
  private readonly options = new Map<string, Record<string, unknown>>();
  private readonly checkpoints?: Checkpoints;

  constructor(options: NetworkOptions = {}) {
    checkNetworkOptions(options);
    this.scheduler = options.scheduler ?? asyncScheduler;
    const plugins = options.plugins ?? [];
    this.registry = options.registry ? (plugins.length ? options.registry.clone() : options.registry) : createRegistry();
    for (const p of plugins) this.registry.use(p);
    this.logger = options.logger ?? stderrLogger;
    const drainTimeout = parseTimer(options.drainTimeout ?? '30s', 'drainTimeout');
    this.services = new NetworkServices(
      options.allowExec === true ? { ...options.services, [ALLOW_EXEC_SERVICE]: true } : (options.services ?? {}),
      this.logger,
    );
    const sampleEvery = sampling(options.metrics ?? (options.http !== undefined ? true : undefined));
    this.http = options.http;
    if (options.fusion !== undefined && typeof options.fusion !== 'boolean') {
      throw new TributaryError('BAD_OPTION', `Network: option 'fusion' must be true or false, got ${String(options.fusion)}`);
    }
    const fusion = options.fusion ?? true;
    const { graph, services, registry, scheduler, logger } = this;
    const checkpoints = (this.checkpoints = options.state ? new Checkpoints(options.state, this.scheduler, this.logger) : undefined);
    const partition = options.partition;
    this.life = new Lifecycle({ graph, services, registry, scheduler, logger, drainTimeout, sampleEvery, fusion, checkpoints, partition });
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
    this.life.assertBuilding(`provide service '${key}'`);
    this.services.map.set(key, service);
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
    return this.services.map.get(key) as T | undefined;
  }

  /**
   * Reads the last checkpoint of the `state` option's store, which `start()` does by itself:
   * call it before `startSync()` (a virtual clock), which cannot wait for the store.
   *
   * @example
   * ```ts
   * await net.restoreState();
   * testScheduler.run(() => net.startSync());
   * ```
   */
  async restoreState(): Promise<void> {
    await this.checkpoints?.load();
  }

  /**
   * The checkpoint coordinator's counters (checkpoints written and failed, events waiting for
   * one, redeliveries skipped); undefined without the `state` option.
   *
   * @example
   * ```ts
   * net.checkpointStats()?.written;
   * ```
   */
  checkpointStats(): CheckpointStats | undefined {
    return this.checkpoints?.stats();
  }

  /**
   * Writes a checkpoint now; resolves true once it is committed (false if the write failed).
   *
   * @example
   * ```ts
   * await net.checkpoint();
   * ```
   */
  checkpoint(): Promise<boolean> {
    return this.checkpoints?.checkpoint() ?? Promise.resolve(true);
  }

  /** Where the network is in its life. */
  get state(): NetworkState {
    return this.life.state;
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
    this.life.assertBuilding(`add node '${name}'`);
    this.graph.add(name, isObservable(node) ? observableNode(node) : node);
    return this;
  }

  /**
   * Builds a node of a registered kind from options and adds it (what the Lua `create_*`
   * functions do). `shown` is what {@link describe} shows instead of `options` (a
   * declarative file's options with their `${VAR}` references unexpanded).
   *
   * @example
   * ```ts
   * net.create('ratelimit', 'filter_2s', { interval: '2s' });
   * ```
   */
  create(kind: string, name: string, options?: Record<string, unknown>, shown?: Record<string, unknown>): this {
    this.life.assertBuilding(`create node '${name}'`);
    this.graph.checkNewName(name);
    let spec: NodeSpec;
    try {
      spec = this.registry.create(kind, options);
    } catch (e) {
      if (e instanceof TributaryError) throw new TributaryError(e.code, `node '${name}': ${e.message}`, { cause: e });
      throw e;
    }
    this.add(name, spec);
    if (shown ?? options) this.options.set(name, shown ?? options!);
    return this;
  }

  /**
   * A node's kind, role and the options it was created with, secrets hidden (see
   * `redactOptions`): what the live page shows when a node is clicked. Undefined for an
   * unknown name; `options` is `{}` for nodes added ready-made with `add()`.
   *
   * @example
   * ```ts
   * net.describe('bets'); // { name: 'bets', role: 'source', kind: 'nats_source', options: { url: 'nats://h:4222', … } }
   * ```
   */
  describe(name: string): { name: string; role: Role; kind: string; options: unknown } | undefined {
    const spec = this.graph.nodes.get(name);
    if (!spec) return undefined;
    return { name, role: spec.role, kind: spec.kind, options: redactOptions(this.options.get(name) ?? {}) };
  }

  /**
   * The network's Prometheus metrics (see `networkMetrics` in `tributary/observe`): a
   * prom-client registry, made on first call, to serve or merge into the host's own
   * (`Registry.merge([hostRegistry, net.metrics()])`). prom-client loads only then.
   *
   * @example
   * ```ts
   * const net = new Network({ metrics: true });
   * app.get('/metrics', async (_req, res) => res.type('text/plain').send(await net.metrics().metrics()));
   * ```
   */
  metrics(): PromRegistry {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not with the core
    this.registry_ ??= (require('../observe/metrics') as typeof import('../observe/metrics')).networkMetrics(this);
    return this.registry_;
  }

  /**
   * The network as of now, as plain data: per node its counters, events in flight, sampled
   * processing times (with `metrics` on), gauges (queue depth, rows, lag …) and last errors.
   * What `networkMetrics()`, the live page and the progress line read.
   *
   * @example
   * ```ts
   * const snap = net.snapshot();
   * snap.nodes.find((n) => n.name === 'enrich')?.inFlight;
   * ```
   */
  snapshot(): NetworkSnapshot {
    const stats = this.stats();
    const progress = this.progress();
    const nodes = [...this.graph.nodes].map(([name, spec]) =>
      nodeSnapshot(name, spec.role, spec.kind, stats[name], this.life.probe(name).reading(), progress[name]),
    );
    return { state: this.state, at: this.scheduler.now(), nodes };
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
    return this.graph.nodes.get(name);
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
    return this.graph.nodes.has(name);
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
    this.life.assertBuilding(`link '${from}' -> '${to}'`);
    this.graph.link(from, to);
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
    // Every edge is checked before any is added, so a bad name or a cycle adds none of them.
    for (const t of targets) this.graph.checkEdge(from, t);
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
    // Every edge is checked before any is added, so a bad name or a cycle adds none of them.
    for (const s of sources) this.graph.checkEdge(s, to);
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
    this.life.assertBuilding(`route errors '${from}' -> '${to}'`);
    this.graph.routeErrors(from, to);
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
    return this.graph.missing(this.graph.require(name)).length > 0;
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
    return this.graph.unconnected();
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
    for (const [k, v] of this.graph.out) result[k] = [...v];
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
    this.graph.validate();
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
  start(): Promise<void> {
    // Without the port, exactly the lifecycle's promise: callers' timing stays as it was.
    return this.http === undefined ? this.life.start() : this.startServing(this.http);
  }

  private async startServing(http: OpsServerOptions): Promise<void> {
    // The port is up before the network: /readyz answers 503 until it runs.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a network that serves it
    const { startOpsServer } = require('../observe/server') as typeof import('../observe/server');
    this.life.assertBuilding('start');
    this.ops = startOpsServer(this, http);
    const ops = await this.ops;
    try {
      await this.life.start();
    } catch (e) {
      this.ops = undefined;
      await ops.close();
      throw e;
    }
    void this.life.done().then(() => this.closeOps());
  }

  /**
   * The operations server of the `http` option, once `start()` opened it.
   *
   * @example
   * ```ts
   * const net = new Network({ http: { port: 0 } });
   * await net.start();
   * console.log(`live page: ${(await net.opsServer())?.url}`);
   * ```
   */
  opsServer(): Promise<OpsServer | undefined> {
    return this.ops ?? Promise.resolve(undefined);
  }

  /** `report`, resolved only once the operations port (if any) is closed. */
  private afterOps(report: Promise<NetworkReport>): Promise<NetworkReport> {
    if (this.http === undefined) return report;
    return report.then(async (r) => {
      await this.closeOps();
      return r;
    });
  }

  private async closeOps(): Promise<void> {
    const ops = this.ops;
    this.ops = undefined;
    if (ops) await (await ops).close();
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
    if (this.http !== undefined) {
      throw new TributaryError('STATE', "startSync() cannot open the operations port of the 'http' option; use start()");
    }
    this.life.startSync();
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
    return this.afterOps(this.life.stop(options));
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
    return this.afterOps(this.life.done());
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
    return this.life.stats();
  }

  /**
   * How far the nodes that can tell are through their input: events in flight, a file
   * source's bytes read of its size (`read`, `total`), a bus consumer's `lag`. Only nodes
   * that report progress are listed; empty before `start()`.
   *
   * @example
   * ```ts
   * const { read, total } = net.progress().bets ?? {};
   * if (total) console.log(`${Math.round((100 * read!) / total)}% of bets.csv read`);
   * ```
   */
  progress(): Record<string, NodeProgress> {
    return this.life.progress();
  }

  /**
   * Graphviz DOT of the graph.
   *
   * @example
   * ```ts
   * fs.writeFileSync('network.dot', net.toDot());
   * ```
   */
  toDot(options: { live?: boolean } = {}): string {
    return toDot(this.graph.view(), 'tributary', options);
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
    return toTree(this.graph.view());
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
    return this.graph.toJSON();
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
    return this.life.report();
  }
}

const NETWORK_OPTIONS = [
  'scheduler',
  'registry',
  'plugins',
  'logger',
  'drainTimeout',
  'services',
  'metrics',
  'http',
  'fusion',
  'state',
  'allowExec',
  'partition',
];
/**

/** The service a network provides (as `true`) when it allows nodes to run executables ({@link NetworkOptions.allowExec}). */
export const ALLOW_EXEC_SERVICE = 'tributary.allow-exec';

/** How many calls per timed one `metrics` asks for; 0 for none. */
function sampling(metrics: NetworkOptions['metrics']): number {
  if (metrics === undefined || metrics === false) return 0;
  if (metrics === true) return 256;
  const n = metrics.sampleEvery ?? 256;
  if (!Number.isInteger(n) || n < 1) {
    throw new TributaryError(
      'BAD_OPTION',
      `Network: option 'metrics.sampleEvery' must be a whole number of calls of at least 1, got ${String(n)}`,
    );
  }
  return n;
}

/** Misspelt or misplaced network options are errors naming them, not silently ignored. */
function checkNetworkOptions(options: NetworkOptions): void {
  if (options === null || typeof options !== 'object') throw new TributaryError('BAD_OPTION', 'Network options must be an object');
  for (const key of Object.keys(options)) {
    if (NETWORK_OPTIONS.includes(key)) continue;
    const hint = suggest(key, NETWORK_OPTIONS);
    throw new TributaryError(
      'BAD_OPTION',
      `Network: unknown option '${key}' (known: ${NETWORK_OPTIONS.join(', ')})${hint ? ` — did you mean '${hint}'?` : ''}`,
    );
  }
  if (options.plugins !== undefined && !Array.isArray(options.plugins)) {
    throw new TributaryError('BAD_OPTION', "Network: option 'plugins' must be a list of plugins (definePlugin(…))");
  }
}
