import type { NodeKind } from '../nodes/registry';
import type { TextOutput } from '../nodes/tester';
import type { NodeSpec } from '../nodes/types';

/** A node a script is about to create, as {@link LuaRuntimeOptions.onCreate} sees it. */
export interface ScriptNode {
  readonly name: string;
  readonly kind: NodeKind<any>;
  /** The options as the script gave them (before validation). */
  readonly options: Record<string, unknown>;
  /** The node built from them. */
  readonly spec: NodeSpec;
}

/** Default {@link LuaRuntimeOptions.callTimeout}, in ms. */
export const DEFAULT_CALL_TIMEOUT = 1000;

/** Options of a {@link LuaRuntime}. */
export interface LuaRuntimeOptions {
  /**
   * Sandbox the scripts (default true): no `io`, `debug`, `package`, `dofile`, `loadfile`,
   * binary chunks, `os.execute`/`exit`/`remove`/`rename`/`getenv`…, and `require` only of
   * `tributary` and modules under {@link luaPath}. Turn off only for trusted scripts.
   */
  sandbox?: boolean;
  /**
   * Where `print` writes, and the default `output` of nodes that print (`tester`,
   * `printer`) when the script names none. Default: `print` to stdout, nodes their own default.
   */
  stdout?: TextOutput;
  /**
   * Let a sandboxed script create node kinds that read or write local files (`file_source`,
   * `file_sink`). Default false; always allowed without the sandbox.
   */
  allowFiles?: boolean;
  /** Directories `require('a.b')` may load `a/b.lua` (or `a/b/init.lua`) from, sandboxed or not. */
  luaPath?: string[];
  /**
   * Sees every node a script creates and may return a node to use instead (tests replace
   * sources by marble inputs and wrap sinks to record them).
   */
  onCreate?: (node: ScriptNode) => NodeSpec | void;
  /**
   * Longest a script run (`runFile`, `runString`) may take, in ms, before it is stopped with
   * an error at the line it was executing: a guard against endless loops. Default: no limit.
   * Functions given to nodes are limited by {@link callTimeout} instead.
   */
  scriptTimeout?: number;
  /**
   * Longest one call of a Lua function from JS may take, in ms (default 1000): a function
   * given to a node (`create_map(…, function(p) … end)`) or passed to an export. A call still
   * running then is stopped with a Lua error at the line it was executing, which becomes that
   * event's error event (a sink nacks it), so one endless loop cannot freeze the process.
   * Wall-clock, checked every 1000 Lua instructions (time spent inside JS exports or one
   * long library call such as `string.rep` is not interrupted). `0` or `Infinity`: no limit.
   */
  callTimeout?: number;
  /**
   * Compile small pure node functions (`function(b) return b.stake * 2 end`) into JS, which
   * runs them without crossing into the VM; any call the compiled form cannot reproduce
   * exactly (an error, a string coerced to a number …) runs on the VM. Default true; false
   * runs every call on the VM (to rule the compiler out when debugging).
   */
  compile?: boolean;
  /**
   * Longest string, in bytes, that `string.rep`, `table.concat`, `string.format` and
   * `string.gsub` may build for a script (sandboxed or not; default 64 MiB): past it they
   * raise a Lua error naming the limit instead of allocating gigabytes. The `..` operator is
   * not covered (fengari gives no hook into it). `Infinity`: no limit.
   */
  maxStringBytes?: number;
  /**
   * The clock `os.time()`, `os.clock()` and `os.date()` (without a time argument) read, in ms:
   * give the network scheduler's `now` so scripts see virtual time. Default: the system clock.
   */
  clock?: () => number;
  /** Seeds `math.random` (otherwise it uses `Math.random` until the script calls `math.randomseed`). */
  randomSeed?: number;
  /**
   * The clock {@link callTimeout} and {@link scriptTimeout} read, in ms; default
   * `performance.now`. A clock that advances per check makes both limits count instructions
   * (deterministic, as `tributary test` does).
   */
  budgetClock?: () => number;
}
