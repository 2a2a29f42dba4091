import { TributaryError } from '../errors';
import type { LuaHost } from '../lua/host';
import type { NodeFactory, NodeKind } from './registry';

/** A node kind as a plugin lists it: its description or its typed factory. */
export type KindLike = NodeKind<any> | NodeFactory<any, any>;

/**
 * A Lua function a plugin adds to the `tributary` module. It is made once per runtime from
 * the runtime's host (its network, and `create` to make nodes the way `create_<kind>` does).
 */
export type LuaExport = (host: LuaHost) => (...args: any[]) => unknown;

/**
 * A shared service (a database, a connection pool) that nodes look up with
 * `ctx.service(key)`. A network opens it when it starts with a node that needs it (a kind
 * lists the key in `services`) and nobody provided it, and closes it after the drain.
 */
export interface ServiceProvider<T = any> {
  open(): T | Promise<T>;
  close?(service: T): void | Promise<void>;
}

/**
 * A set of node kinds, Lua functions and services, registered together. The core never
 * imports a plugin: a composition root (the CLI, or your `new Network({ plugins })`) does.
 */
export interface Plugin {
  /** A short unique name (`windows`, `nats`, `acme-sensors`). */
  readonly name: string;
  readonly kinds?: readonly KindLike[];
  /** Functions of the `tributary` Lua module beyond `create_<kind>`, by name. */
  readonly luaExports?: Readonly<Record<string, LuaExport>>;
  /** Services by key (see {@link ServiceProvider}). */
  readonly services?: Readonly<Record<string, ServiceProvider>>;
}

/**
 * A plugin known by what it offers, loaded only when one of those is first used: how the
 * CLI keeps `tributary run` of a script without windows from loading the window code.
 * `load` must return a plugin offering exactly the names listed.
 */
export interface LazyPlugin {
  readonly name: string;
  readonly lazy: true;
  readonly kinds: readonly string[];
  readonly luaExports?: readonly string[];
  readonly services?: readonly string[];
  load(): Plugin;
}

const NAME = /^[a-z][a-z0-9_-]*$/;
const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Declares a plugin: checks its shape and returns it unchanged (typed). Load it with
 * `new Network({ plugins: [plugin] })`, `registry.use(plugin)` or `tributary run --plugin`.
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   name: 'acme',
 *   kinds: [celsius],                              // from defineNode
 *   luaExports: { acme_version: () => () => '1.0' },
 * });
 * ```
 */
export function definePlugin<P extends Plugin>(plugin: P): P {
  const where = `plugin '${String(plugin?.name)}'`;
  if (!plugin || typeof plugin !== 'object')
    throw new TributaryError('BAD_OPTION', 'a plugin must be an object made by definePlugin({ name, … })');
  if (typeof plugin.name !== 'string' || !NAME.test(plugin.name)) {
    throw new TributaryError('BAD_OPTION', `${where}: name must be lower-case letters, digits, '-' or '_'`);
  }
  const allowed = new Set(['name', 'kinds', 'luaExports', 'services']);
  for (const key of Object.keys(plugin)) {
    if (!allowed.has(key)) throw new TributaryError('BAD_OPTION', `${where}: unknown field '${key}' (fields: ${[...allowed].join(', ')})`);
  }
  if (plugin.kinds !== undefined && !Array.isArray(plugin.kinds)) throw new TributaryError('BAD_OPTION', `${where}: kinds must be a list`);
  for (const [name, fn] of Object.entries(plugin.luaExports ?? {})) {
    if (!LUA_NAME.test(name)) throw new TributaryError('BAD_OPTION', `${where}: Lua export '${name}' must be a Lua identifier`);
    if (typeof fn !== 'function')
      throw new TributaryError('BAD_OPTION', `${where}: Lua export '${name}' must be a function (host) => function`);
  }
  for (const [key, provider] of Object.entries(plugin.services ?? {})) {
    if (!provider || typeof provider.open !== 'function')
      throw new TributaryError('BAD_OPTION', `${where}: service '${key}' needs an open() function`);
  }
  return plugin;
}

/**
 * Declares a plugin that loads on first use (see {@link LazyPlugin}).
 *
 * @example
 * ```ts
 * const windows = lazyPlugin({
 *   name: 'windows', kinds: ['window', 'query_window'], luaExports: ['query_window'],
 *   load: () => require('./windows/plugin').windowsPlugin(),
 * });
 * ```
 */
export function lazyPlugin(plugin: Omit<LazyPlugin, 'lazy'>): LazyPlugin {
  return { ...plugin, lazy: true };
}

/**
 * True for a plugin declared with {@link lazyPlugin}.
 *
 * @example
 * ```ts
 * isLazyPlugin(lazyPlugin({ name: 'x', kinds: [], load })); // true
 * ```
 */
export function isLazyPlugin(p: Plugin | LazyPlugin): p is LazyPlugin {
  return (p as LazyPlugin).lazy === true;
}
