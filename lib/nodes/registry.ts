import { TributaryError } from '../errors';
import { resolveOptions, type OptionsSchema } from './options';
import type { NodeSpec, Role } from './types';

/**
 * The one description of a node kind. The TypeScript factory, the Lua `create_<kind>` export,
 * the CLI's `tributary nodes` listing, option validation and the generated catalogue page all
 * come from it.
 */
export interface NodeKind<O = Record<string, unknown>> {
  /** Kind name; the Lua export is `create_<name>`. */
  readonly name: string;
  readonly role: Role;
  /** One sentence for listings. */
  readonly summary: string;
  readonly options: OptionsSchema;
  /** Option names taken positionally after the node name in Lua (the original's argument order). */
  readonly positional: readonly string[];
  /** A TypeScript example; specs run it. */
  readonly example: string;
  /** A Lua example; specs run it. */
  readonly luaExample?: string;
  /**
   * What outside the process the kind touches, if anything: `'files'` (read or write local
   * files) or `'network'`. A sandboxed Lua script may not create `'files'` kinds.
   */
  readonly io?: 'files' | 'network';
  /** Builds the node from validated options (durations already in ms). */
  build(options: O): NodeSpec;
}

/** Makes the options argument optional when every option is. */
type OptionsArg<I> = {} extends I ? [options?: I] : [options: I];

/** A typed factory for one node kind; `factory.kind` is its registry description. */
export type NodeFactory<I = Record<string, unknown>, O = I> = ((...args: OptionsArg<I>) => NodeSpec) & {
  readonly kind: NodeKind<O>;
};

/**
 * Defines a node kind and returns its typed factory. `I` is what users pass, `O` what
 * `build` receives after validation (durations in ms, defaults filled).
 *
 * @example
 * ```ts
 * const double = defineNode<{}, {}>({
 *   name: 'double', role: 'pipeline', summary: 'Doubles numbers.', options: {}, positional: [],
 *   example: "net.add('d', double())",
 *   build: () => nodes.map({ fn: (x: number) => x * 2 }),
 * });
 * registry.register(double);
 * ```
 */
export function defineNode<I, O = I>(kind: NodeKind<O>): NodeFactory<I, O> {
  for (const p of kind.positional) {
    if (!Object.prototype.hasOwnProperty.call(kind.options, p)) throw new TypeError(`node kind '${kind.name}': positional '${p}' is not an option`);
  }
  const factory = ((options?: I) => buildKind(kind, options as Record<string, unknown> | undefined)) as unknown as NodeFactory<I, O>;
  Object.defineProperty(factory, 'kind', { value: kind, enumerable: true });
  Object.defineProperty(factory, 'name', { value: kind.name });
  return factory;
}

function buildKind<O>(kind: NodeKind<O>, raw: Record<string, unknown> | undefined): NodeSpec {
  const resolved = resolveOptions(kind.options, raw, `node kind '${kind.name}'`) as O;
  const spec = kind.build(resolved);
  if (spec.role !== kind.role) {
    throw new TypeError(`node kind '${kind.name}' is declared a ${kind.role} but built a ${spec.role}`);
  }
  return spec;
}

/**
 * A set of node kinds. Create one, extend it, clone it: nothing about it is global, so tests
 * and host programs can add kinds without touching anybody else's.
 *
 * @example
 * ```ts
 * const registry = createRegistry();          // the built-in kinds
 * registry.register(myKind);                  // add your own
 * const node = registry.create('ratelimit', { interval: '2s' });
 * ```
 */
export class Registry {
  private readonly kinds = new Map<string, NodeKind<any>>();

  constructor(kinds: Iterable<NodeKind<any> | NodeFactory<any, any>> = []) {
    for (const k of kinds) this.register(k);
  }

  /**
   * Adds a kind. A name already present is an error unless `replace` is set.
   *
   * @example
   * ```ts
   * registry.register(myFactory);            // or myFactory.kind
   * registry.register(other, { replace: true });
   * ```
   */
  register(kind: NodeKind<any> | NodeFactory<any, any>, opts: { replace?: boolean } = {}): this {
    const k = typeof kind === 'function' ? kind.kind : kind;
    if (!/^[a-z][a-z0-9_]*$/.test(k.name)) {
      throw new TributaryError('BAD_OPTION', `node kind name '${k.name}' must be lower_snake_case (it becomes create_${k.name} in Lua)`);
    }
    if (this.kinds.has(k.name) && !opts.replace) {
      throw new TributaryError('DUPLICATE_NODE', `node kind '${k.name}' is already registered`);
    }
    this.kinds.set(k.name, k);
    return this;
  }

  /**
   * True if the kind exists.
   *
   * @example
   * ```ts
   * registry.has('ticker'); // true
   * ```
   */
  has(name: string): boolean {
    return this.kinds.has(name);
  }

  /**
   * The description of a kind; an unknown name is an error listing the known ones.
   *
   * @example
   * ```ts
   * registry.get('ticker').positional; // ['interval']
   * ```
   */
  get(name: string): NodeKind<any> {
    const k = this.kinds.get(name);
    if (!k) {
      throw new TributaryError('UNKNOWN_KIND', `unknown node kind '${name}' (known: ${[...this.kinds.keys()].sort().join(', ')})`);
    }
    return k;
  }

  /**
   * Every kind, sorted by name.
   *
   * @example
   * ```ts
   * registry.list().map((k) => k.name);
   * ```
   */
  list(): NodeKind<any>[] {
    return [...this.kinds.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Builds a node of a kind from raw options (validated against the kind's schema).
   *
   * @example
   * ```ts
   * net.add('limit', registry.create('ratelimit', { interval: '2s' }));
   * ```
   */
  create(name: string, options?: Record<string, unknown>): NodeSpec {
    return buildKind(this.get(name), options);
  }

  /**
   * An independent copy: registering on it leaves this one unchanged.
   *
   * @example
   * ```ts
   * const mine = registry.clone().register(myKind);
   * ```
   */
  clone(): Registry {
    return new Registry(this.kinds.values());
  }
}
