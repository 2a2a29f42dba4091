import type { Network } from '../network/network';

/**
 * What a Lua runtime offers to code that extends the `tributary` module (window exports,
 * host programs): the network the script builds, and a way to add module functions.
 */
export interface LuaHost {
  readonly network: Network;
  /**
   * Adds `name` to the `tributary` Lua module. Arguments arrive converted to JS (tables to
   * objects/arrays, Lua functions to callable JS functions); the return value is converted
   * back. A thrown error becomes a Lua error carrying the script's file and line.
   */
  export(name: string, fn: (...args: any[]) => unknown): this;
  /**
   * Creates a node of a registered kind exactly as the script's `create_<kind>` would: the
   * runtime's substitutions (test inputs, recorded sinks) and output defaults apply. Exports
   * that create nodes (`sliding_window_time` …) should prefer it to `network.create`.
   * Optional so that simpler hosts need not provide it. `shown`: what `network.describe()`
   * shows instead of `options` (see `Network.create`).
   */
  create?(kind: string, name: string, options?: Record<string, unknown>, shown?: Record<string, unknown>): void;
}
