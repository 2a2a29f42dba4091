import { TributaryError } from '../errors';
import type { NodeSpec, Role } from '../nodes/types';
import type { GraphView } from './render';

/** A graph as plain data, for `tributary graph --format json`. */
export interface NetworkJSON {
  nodes: { name: string; role: Role; kind: string }[];
  edges: { from: string; to: string; errors?: true }[];
}

// A node name is also a key of plain records (stats(), Lua tables), where these would
// reach the prototype; names starting with `$` are refused as well.
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const ROLES: readonly string[] = ['source', 'pipeline', 'sink'];

/**
 * The wiring of a network as data: nodes by name, edges, the inputs of each node and error
 * routes. Every change is checked when it is made, so a graph is never wrong in a way its
 * builder could not be told about at the call that made it so (a cycle, a sink used as a
 * source, a duplicate edge); only completeness is left to {@link validate}. It knows nothing
 * of RxJS or of a network's life: the {@link Network} guards when it may change and
 * `compile` turns it into subscriptions.
 *
 * @example
 * ```ts
 * const g = new Graph();
 * g.add('numbers', nodes.from({ items: [1, 2] })).add('out', nodes.discarder());
 * g.link('numbers', 'out');
 * g.validate();
 * g.topoOrder(); // ['numbers', 'out']
 * ```
 */
export class Graph {
  /** Node specs by name, in insertion order. */
  readonly nodes = new Map<string, NodeSpec>();
  /** Outgoing edges per node, in insertion order (error routes apart). */
  readonly out = new Map<string, string[]>();
  /** Producers per node: its incoming edges and the error routes ending at it. */
  readonly inputs = new Map<string, string[]>();
  /** Error routes: from → to. */
  readonly errorRoutes = new Map<string, string>();

  /**
   * Throws unless `name` is well formed and not taken yet.
   *
   * @example
   * ```ts
   * g.checkNewName('ticker_500ms'); // before building the node it names
   * ```
   */
  checkNewName(name: string): void {
    checkName(name);
    if (this.nodes.has(name)) throw new TributaryError('DUPLICATE_NODE', `node '${name}' already exists`);
  }

  /**
   * Adds a node under a new name.
   *
   * @example
   * ```ts
   * g.add('double', nodes.map({ fn: (n: number) => n * 2 }));
   * ```
   */
  add(name: string, spec: NodeSpec): this {
    this.checkNewName(name);
    if (!spec || typeof spec !== 'object' || !ROLES.includes(spec.role) || typeof spec.create !== 'function') {
      throw new TributaryError('BAD_OPTION', `node '${name}': not a node (use nodes.*, a registry, or an Observable)`);
    }
    this.nodes.set(name, spec);
    this.out.set(name, []);
    this.inputs.set(name, []);
    return this;
  }

  /**
   * Adds the edge `from` → `to` after {@link checkEdge}.
   *
   * @example
   * ```ts
   * g.link('ticker_500ms', 'forwarder1');
   * ```
   */
  link(from: string, to: string): this {
    this.checkEdge(from, to);
    this.out.get(from)!.push(to);
    this.inputs.get(to)!.push(from);
    return this;
  }

  /**
   * Sends `from`'s error events to `to`; a node has at most one error route.
   *
   * @example
   * ```ts
   * g.routeErrors('enrich', 'dead_letters');
   * ```
   */
  routeErrors(from: string, to: string): this {
    this.checkEdge(from, to);
    if (this.errorRoutes.has(from)) {
      throw new TributaryError('BAD_LINK', `node '${from}' already routes its errors to '${this.errorRoutes.get(from)}'`);
    }
    this.errorRoutes.set(from, to);
    this.inputs.get(to)!.push(from);
    return this;
  }

  /**
   * Throws if `from` → `to` may not be added: an unknown node, a sink as producer, a source
   * as consumer, an edge already there, or a cycle (named in full).
   *
   * @example
   * ```ts
   * for (const t of targets) g.checkEdge(from, t); // all or nothing, before linking any
   * ```
   */
  checkEdge(from: string, to: string): void {
    const a = this.nodes.get(this.require(from))!;
    const b = this.nodes.get(this.require(to))!;
    if (a.role === 'sink') throw new TributaryError('BAD_LINK', `cannot link '${from}' -> '${to}': '${from}' is a sink and has no output`);
    if (b.role === 'source')
      throw new TributaryError('BAD_LINK', `cannot link '${from}' -> '${to}': '${to}' is a source and takes no input`);
    if (from === to) throw new TributaryError('CYCLE', `cannot link '${from}' to itself: cycle ${from} -> ${from}`);
    if (this.out.get(from)!.includes(to) || this.errorRoutes.get(from) === to) {
      throw new TributaryError('BAD_LINK', `'${from}' is already linked to '${to}'`);
    }
    const path = this.pathBetween(to, from);
    if (path) {
      throw new TributaryError('CYCLE', `cannot link '${from}' -> '${to}': it would close the cycle ${[from, ...path].join(' -> ')}`);
    }
  }

  /**
   * Returns `name` if it is a node, else throws naming the nodes there are.
   *
   * @example
   * ```ts
   * const spec = g.nodes.get(g.require(name))!;
   * ```
   */
  require(name: string): string {
    if (!this.nodes.has(name)) {
      const known = [...this.nodes.keys()];
      throw new TributaryError(
        'UNKNOWN_NODE',
        `unknown node '${name}'` + (known.length ? ` (nodes: ${known.join(', ')})` : ' (the network has no nodes yet)'),
      );
    }
    return name;
  }

  /**
   * What a known node lacks for its role, one message per missing side.
   *
   * @example
   * ```ts
   * g.missing('forwarder2'); // ["node 'forwarder2' (pipeline) has no output"]
   * ```
   */
  missing(name: string): string[] {
    const role = this.nodes.get(name)!.role;
    const problems: string[] = [];
    const hasIn = this.inputs.get(name)!.length > 0;
    const hasOut = this.out.get(name)!.length > 0;
    if (role !== 'source' && !hasIn) problems.push(`node '${name}' (${role}) has no input`);
    if (role !== 'sink' && !hasOut) problems.push(`node '${name}' (${role}) has no output`);
    return problems;
  }

  /**
   * What every node lacks, in insertion order.
   *
   * @example
   * ```ts
   * g.unconnected(); // ["node 'forwarder2' (pipeline) has no output"]
   * ```
   */
  unconnected(): string[] {
    return [...this.nodes.keys()].flatMap((n) => this.missing(n));
  }

  /**
   * Throws one error listing every problem if the graph is empty or incomplete.
   *
   * @example
   * ```ts
   * g.validate(); // throws "network is not connected: node 'x' (pipeline) has no output"
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
   * Where a node's events go: its edges, then its error route.
   *
   * @example
   * ```ts
   * g.successors('enrich'); // ['store', 'dead_letters']
   * ```
   */
  successors(n: string): string[] {
    const route = this.errorRoutes.get(n);
    const out = this.out.get(n) ?? [];
    return route === undefined ? out : [...out, route];
  }

  /**
   * A shortest path from `a` to `b` along edges and error routes, if there is one.
   *
   * @example
   * ```ts
   * g.pathBetween('numbers', 'sum'); // ['numbers', 'triple', 'sum']
   * ```
   */
  pathBetween(a: string, b: string): string[] | undefined {
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

  /**
   * Nodes in topological order (every producer before its consumers). Complete because
   * {@link checkEdge} never lets a cycle in.
   *
   * @example
   * ```ts
   * for (const name of g.topoOrder()) build(name);
   * ```
   */
  topoOrder(): string[] {
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

  /**
   * What the renderers draw; live maps, not copies, since rendering only reads them.
   *
   * @example
   * ```ts
   * toDot(g.view());
   * ```
   */
  view(): GraphView {
    return {
      nodes: [...this.nodes].map(([name, spec]) => ({ name, role: spec.role, kind: spec.kind })),
      edges: this.out,
      errorRoutes: this.errorRoutes,
    };
  }

  /**
   * The graph as plain data: nodes, then each node's edges followed by its error route.
   *
   * @example
   * ```ts
   * JSON.stringify(g.toJSON());
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
}

/**
 * Throws unless `name` can name a node: a non-empty string, not reserved, free of
 * whitespace, quotes and control characters (which would break DOT and log lines).
 *
 * @example
 * ```ts
 * checkName('ticker_500ms'); // fine
 * checkName('$errors');      // throws RESERVED_NAME
 * ```
 */
export function checkName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new TributaryError('BAD_OPTION', `node name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  if (RESERVED.has(name) || name.startsWith('$')) {
    throw new TributaryError(
      'RESERVED_NAME',
      `node name '${name}' is reserved (names may not start with '$' or be __proto__, constructor, prototype)`,
    );
  }
  if (/[\s\u0000-\u001f"']/.test(name)) {
    throw new TributaryError('BAD_OPTION', `node name ${JSON.stringify(name)} may not contain spaces, quotes or control characters`);
  }
}
