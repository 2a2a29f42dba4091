import { TributaryError } from '../errors';
import { resolveOptions, type InputOf, type OptionsSchema, type OutputOf } from './options';
import { isLazyPlugin, type KindLike, type LazyPlugin, type LuaExport, type Plugin, type ServiceProvider } from './plugin';
import type { NodeSpec, Role } from './types';
import { suggest } from '../util/suggest';

/**
 * The one description of a node kind. The TypeScript factory, the Lua `create_<kind>` export,
 * the CLI's `tributary nodes` listing and JSON Schema, option validation and the generated
 * catalogue page all come from it.
 */
export interface NodeKind<O = Record<string, unknown>, S extends OptionsSchema = OptionsSchema> {
  /** Kind name; the Lua export is `create_<name>`. */
  readonly name: string;
  readonly role: Role;
  /** One sentence for listings. */
  readonly summary: string;
  /** The options, built with `opt` (types, validation, defaults and docs come from it). */
  readonly options: S;
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
  /** Services its nodes look up with `ctx.service(key)` (opened by the network at start when a plugin provides them). */
  readonly services?: readonly string[];
  /** Builds the node from validated options (durations already in ms, defaults filled). */
  build(options: O): NodeSpec;
}

/** Makes the options argument optional when every option is. */
type OptionsArg<I> = {} extends I ? [options?: I] : [options: I];

/** A typed factory for one node kind; `factory.kind` is its registry description. */
export type NodeFactory<I = Record<string, unknown>, O = I> = ((...args: OptionsArg<I>) => NodeSpec) & {
  readonly kind: NodeKind<O>;
};

/**
 * Defines a node kind and returns its typed factory. The option types come from the schema:
 * what users pass ({@link InputOf}) and what `build` receives ({@link OutputOf}: durations in
 * ms, defaults filled).
 *
 * @example
 * ```ts
 * const scale = defineNode({
 *   name: 'scale', role: 'pipeline', summary: 'Multiplies numbers.', positional: ['factor'],
 *   options: { factor: opt.number('the multiplier').withDefault(2) },
 *   example: "net.add('s', scale({ factor: 3 }))",
 *   build: (o) => nodes.map({ fn: (x: number) => x * o.factor }), // o.factor: number
 * });
 * registry.register(scale);
 * ```
 */
export function defineNode<const S extends OptionsSchema>(kind: NodeKind<OutputOf<S>, S>): NodeFactory<InputOf<S>, OutputOf<S>>;
export function defineNode(kind: NodeKind<any>): NodeFactory<any, any> {
  for (const p of kind.positional) {
    if (!Object.prototype.hasOwnProperty.call(kind.options, p))
      throw new TypeError(`node kind '${kind.name}': positional '${p}' is not an option`);
  }
  const factory = ((options?: Record<string, unknown>) => buildKind(kind, options)) as unknown as NodeFactory<any, any>;
  Object.defineProperty(factory, 'kind', { value: kind, enumerable: true });
  Object.defineProperty(factory, 'name', { value: kind.name });
  return factory;
}

/**
 * Builds a node of a kind from raw options: validates them (errors name `where`, default the
 * kind), builds, and records the services the kind needs on the node.
 *
 * @example
 * ```ts
 * buildKind(registry.get('ticker'), { interval: '1s' }, "ticker 't'");
 * ```
 */
export function buildKind(kind: NodeKind<any>, raw: Record<string, unknown> | undefined, where = `node kind '${kind.name}'`): NodeSpec {
  const resolved = resolveOptions(kind.options, raw, where);
  const spec = kind.build(resolved);
  if (spec.role !== kind.role) {
    throw new TypeError(`node kind '${kind.name}' is declared a ${kind.role} but built a ${spec.role}`);
  }
  return kind.services?.length && !spec.services ? { ...spec, services: kind.services } : spec;
}

/**
 * A set of node kinds, plugin Lua functions and service providers. Create one, extend it,
 * clone it: nothing about it is global, so tests and host programs can add kinds without
 * touching anybody else's.
 *
 * @example
 * ```ts
 * const registry = createRegistry();          // the core kinds
 * registry.use(myPlugin).register(myKind);    // add your own
 * const node = registry.create('ratelimit', { interval: '2s' });
 * ```
 */
export class Registry {
  private readonly kinds = new Map<string, NodeKind<any>>();
  private readonly plugins = new Map<string, Plugin | LazyPlugin>();
  private readonly exports = new Map<string, LuaExport>();
  private readonly providers = new Map<string, ServiceProvider>();
  /** What each plugin not loaded yet offers, by name: kinds, Lua exports, services. */
  private readonly pending = new Map<string, LazyPlugin>();
  /** Which plugin brought each kind (kinds registered directly have none). */
  private readonly origin = new Map<string, string>();

  constructor(kinds: Iterable<KindLike> = []) {
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
  register(kind: KindLike, opts: { replace?: boolean } = {}): this {
    const k = typeof kind === 'function' ? kind.kind : kind;
    if (!k || typeof k.name !== 'string' || typeof k.build !== 'function') {
      throw new TributaryError('BAD_OPTION', 'register() takes a node kind or a factory made by defineNode');
    }
    if (!/^[a-z][a-z0-9_]*$/.test(k.name)) {
      throw new TributaryError('BAD_OPTION', `node kind name '${k.name}' must be lower_snake_case (it becomes create_${k.name} in Lua)`);
    }
    if (!opts.replace && (this.kinds.has(k.name) || this.pending.has(`kind:${k.name}`))) {
      throw new TributaryError('DUPLICATE_NODE', `node kind '${k.name}' is already registered`);
    }
    this.kinds.set(k.name, k);
    return this;
  }

  /**
   * Adds a plugin: its kinds, Lua functions and service providers. A lazy plugin (see
   * `lazyPlugin`) is loaded when one of its names is first used. A name another plugin
   * already offers is an error naming both.
   *
   * @example
   * ```ts
   * const registry = createRegistry().use(windowsPlugin({ url: 'sqlite::memory:' }));
   * ```
   */
  use(plugin: Plugin | LazyPlugin): this {
    if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
      throw new TributaryError('BAD_OPTION', 'use() takes a plugin made by definePlugin({ name, … })');
    }
    if (this.plugins.has(plugin.name)) {
      throw new TributaryError('DUPLICATE_NODE', `plugin '${plugin.name}' is already loaded`);
    }
    if (isLazyPlugin(plugin)) {
      const names = [
        ...plugin.kinds.map((n) => `kind:${n}`),
        ...(plugin.luaExports ?? []).map((n) => `lua:${n}`),
        ...(plugin.services ?? []).map((n) => `service:${n}`),
      ];
      for (const n of names) this.claim(n, plugin.name);
      this.plugins.set(plugin.name, plugin);
      for (const n of names) this.pending.set(n, plugin);
      return this;
    }
    this.plugins.set(plugin.name, plugin);
    this.install(plugin);
    return this;
  }

  /**
   * The plugins added, in order (lazy ones whether loaded or not).
   *
   * @example
   * ```ts
   * registry.pluginNames(); // ['http', 'nats', 'windows']
   * ```
   */
  pluginNames(): string[] {
    return [...this.plugins.keys()];
  }

  /**
   * True if the kind exists (a lazy plugin's kind counts, without loading it).
   *
   * @example
   * ```ts
   * registry.has('ticker'); // true
   * ```
   */
  has(name: string): boolean {
    return this.kinds.has(name) || this.pending.has(`kind:${name}`);
  }

  /**
   * The description of a kind; an unknown name is an error suggesting the nearest known one.
   *
   * @example
   * ```ts
   * registry.get('ticker').positional; // ['interval']
   * ```
   */
  get(name: string): NodeKind<any> {
    const k = this.kinds.get(name) ?? (this.loadFor(`kind:${name}`) ? this.kinds.get(name) : undefined);
    if (!k) {
      const known = this.names();
      const hint = suggest(name, known);
      throw new TributaryError(
        'UNKNOWN_KIND',
        `unknown node kind '${name}' (known: ${known.join(', ')})` + (hint ? ` — did you mean '${hint}'?` : ''),
      );
    }
    return k;
  }

  /**
   * Every kind name, sorted, without loading lazy plugins.
   *
   * @example
   * ```ts
   * registry.names().includes('window'); // true with the windows plugin, loaded or not
   * ```
   */
  names(): string[] {
    const lazy = [...this.pending.keys()].filter((k) => k.startsWith('kind:')).map((k) => k.slice(5));
    return [...new Set([...this.kinds.keys(), ...lazy])].sort();
  }

  /**
   * Every kind, sorted by name (lazy plugins are loaded: listings need their declarations).
   *
   * @example
   * ```ts
   * registry.list().map((k) => k.name);
   * ```
   */
  list(): NodeKind<any>[] {
    this.loadAll();
    return [...this.kinds.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The kinds loaded so far, sorted by name (no plugin is loaded).
   *
   * @example
   * ```ts
   * registry.loaded().length;
   * ```
   */
  loaded(): NodeKind<any>[] {
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
   * The plugin that offers a kind (loaded or not), or undefined for a kind registered directly.
   *
   * @example
   * ```ts
   * createRegistry({ plugins: builtinPlugins() }).pluginOf('window'); // 'windows'
   * ```
   */
  pluginOf(kindName: string): string | undefined {
    return this.origin.get(kindName) ?? this.pending.get(`kind:${kindName}`)?.name;
  }

  /**
   * Names of the Lua functions plugins add (loaded or not), sorted.
   *
   * @example
   * ```ts
   * registry.luaExportNames(); // ['declare_table', 'query_window', …]
   * ```
   */
  luaExportNames(): string[] {
    const lazy = [...this.pending.keys()].filter((k) => k.startsWith('lua:')).map((k) => k.slice(4));
    return [...new Set([...this.exports.keys(), ...lazy])].sort();
  }

  /**
   * A plugin's Lua function by name (its plugin is loaded if need be), or undefined.
   *
   * @example
   * ```ts
   * const make = registry.luaExport('query_window'); // (host) => (name, sql) => …
   * ```
   */
  luaExport(name: string): LuaExport | undefined {
    return this.exports.get(name) ?? (this.loadFor(`lua:${name}`) ? this.exports.get(name) : undefined);
  }

  /**
   * The provider of a service key (its plugin is loaded if need be), or undefined.
   *
   * @example
   * ```ts
   * const provider = registry.serviceProvider('tributary.windows');
   * ```
   */
  serviceProvider(key: string): ServiceProvider | undefined {
    return this.providers.get(key) ?? (this.loadFor(`service:${key}`) ? this.providers.get(key) : undefined);
  }

  /**
   * An independent copy: registering on it leaves this one unchanged. Lazy plugins not yet
   * loaded stay lazy in both.
   *
   * @example
   * ```ts
   * const mine = registry.clone().register(myKind);
   * ```
   */
  clone(): Registry {
    const copy = new Registry(this.kinds.values());
    for (const [name, p] of this.plugins) copy.plugins.set(name, p);
    for (const [k, v] of this.exports) copy.exports.set(k, v);
    for (const [k, v] of this.providers) copy.providers.set(k, v);
    for (const [k, v] of this.pending) copy.pending.set(k, v);
    for (const [k, v] of this.origin) copy.origin.set(k, v);
    return copy;
  }

  private claim(name: string, by: string): void {
    const [what, key] = [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)];
    const taken =
      (what === 'kind' && this.kinds.has(key)) ||
      (what === 'lua' && this.exports.has(key)) ||
      (what === 'service' && this.providers.has(key));
    const other = this.pending.get(name);
    if (taken || other) {
      const label = what === 'lua' ? 'Lua function' : what;
      throw new TributaryError(
        'DUPLICATE_NODE',
        `plugin '${by}': ${label} '${key}' is already registered${other ? ` by plugin '${other.name}'` : ''}`,
      );
    }
  }

  private install(plugin: Plugin): void {
    for (const k of plugin.kinds ?? []) {
      const kind = typeof k === 'function' ? k.kind : k;
      if (kind && this.kinds.has(kind.name))
        throw new TributaryError('DUPLICATE_NODE', `plugin '${plugin.name}': node kind '${kind.name}' is already registered`);
      this.register(k);
      this.origin.set(kind.name, plugin.name);
    }
    for (const [name, fn] of Object.entries(plugin.luaExports ?? {})) {
      this.claim(`lua:${name}`, plugin.name);
      this.exports.set(name, fn);
    }
    for (const [key, provider] of Object.entries(plugin.services ?? {})) {
      this.claim(`service:${key}`, plugin.name);
      this.providers.set(key, provider);
    }
  }

  /** Loads the lazy plugin that offers `name`; false when none does. */
  private loadFor(name: string): boolean {
    const lazy = this.pending.get(name);
    if (!lazy) return false;
    for (const [k, v] of [...this.pending]) if (v === lazy) this.pending.delete(k);
    let plugin: Plugin;
    try {
      plugin = lazy.load();
    } catch (e) {
      throw new TributaryError('STATE', `plugin '${lazy.name}' failed to load: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    const offered = (p: { kinds?: readonly unknown[]; luaExports?: unknown; services?: unknown }, names: (x: unknown) => string[]) =>
      [...names(p.kinds), ...names(p.luaExports), ...names(p.services)].sort().join(', ');
    const declared = offered(lazy, (x) => (Array.isArray(x) ? x.map(String) : []));
    const actual = offered(plugin, (x) =>
      Array.isArray(x) ? x.map((k: KindLike) => (typeof k === 'function' ? k.kind.name : k.name)) : Object.keys((x as object) ?? {}),
    );
    if (declared !== actual) {
      throw new TributaryError('STATE', `plugin '${lazy.name}' offers [${actual}] but was declared lazily with [${declared}]`);
    }
    this.install(plugin);
    return true;
  }

  private loadAll(): void {
    for (const name of [...this.pending.keys()]) if (this.pending.has(name)) this.loadFor(name);
  }
}
