import { readFileSync } from 'node:fs';
import { TributaryError, errorMessage } from '../errors';
import type { Network } from '../network/network';
import type { NodeFactory, NodeKind } from '../nodes/registry';
import type { NodeSpec } from '../nodes/types';
import { LuaBridge } from './bridge';
import { hookCoroutines } from './budget';
import { luaText } from './strings';
import { DEFAULT_MAX_STRING_BYTES, limitStrings } from './strings-limit';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import type { LuaHost } from './host';
import { coreExports, createName, luaArgsToOptions } from './module';
import { displayPath } from './require';
import { DEFAULT_CALL_TIMEOUT, type LuaRuntimeOptions } from './runtime-options';
export type { LuaRuntimeOptions, ScriptNode } from './runtime-options';
import { installRequire } from './require';
import { checkSandboxedSql, openLibraries } from './sandbox';
import { pcallLocated } from './error-value';
import { suggest } from '../util/suggest';

const MODULE = 'tributary';
const CREATE = 'create_';
const TEXT_MODE = to_luastring('t');

/**
 * A Lua VM (fengari) whose `require('tributary')` builds a {@link Network}: the module's
 * `create_<kind>` functions come from the network's registry, plus `link`, `fanout`,
 * `fanin`, `node_exists`, `route_errors`, the window functions and your own exports. Scripts
 * only build the graph; start the network yourself once they ran without error. Keep the
 * runtime open while the network runs if scripts gave nodes Lua functions; `close()` after.
 *
 * @example
 * ```ts
 * const net = new Network();
 * const runtime = new LuaRuntime(net);
 * runtime.export('my_custom_fn', (s: string, n: number) => s.length + n);
 * runtime.runFile('examples/scripted/network.lua');
 * await net.start();
 * // … later
 * await net.stop();
 * runtime.close();
 * ```
 */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class LuaRuntime implements LuaHost {
  readonly network: Network;
  private L: LuaState | undefined;
  private readonly bridge: LuaBridge;
  private readonly options: LuaRuntimeOptions;
  private readonly exports = new Map<string, (...args: any[]) => unknown>();
  private readonly installed = new Set<string>();
  private moduleRef: number | undefined;

  constructor(network: Network, options: LuaRuntimeOptions = {}) {
    this.network = network;
    this.options = { sandbox: true, ...options };
    const L = lauxlib.luaL_newstate();
    this.L = L;
    this.bridge = new LuaBridge(L, this.options.callTimeout ?? DEFAULT_CALL_TIMEOUT, this.options.budgetClock);
    // A JS exception escaping some library function becomes an ordinary Lua error.
    lua.lua_atnativeerror(L, (S) => {
      lua.lua_pushstring(S, to_luastring(errorMessage(lua.lua_touserdata(S, -1))));
      return 1;
    });
    openLibraries(L, this.options.sandbox !== false);
    limitStrings(L, this.options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES);
    hookCoroutines(L);
    installRequire(L, {
      bridge: this.bridge,
      sandbox: this.options.sandbox !== false,
      luaPath: this.options.luaPath ?? [],
      modules: { [MODULE]: (S) => this.moduleTable(S) },
    });
    lua.lua_pushcfunction(L, this.printFn());
    lua.lua_setglobal(L, to_luastring('print'));
    if (this.options.clock || this.options.randomSeed !== undefined) this.pinClockAndRandom(L);
    this.bridge.compile = this.options.compile !== false;
    this.bridge.recordStandard(L);
  }

  /** Points `os.time`/`os.clock`/`os.date` at the given clock and seeds `math.random` (see the options). */
  private pinClockAndRandom(L: LuaState): void {
    const { clock, randomSeed } = this.options;
    if (clock) {
      lua.lua_pushcfunction(L, (S) => {
        lua.lua_pushnumber(S, clock());
        return 1;
      });
      lua.lua_setglobal(L, to_luastring('__tributary_now'));
    }
    const prelude = `
local now = __tributary_now
__tributary_now = nil
if now and os then
  local time, date = os.time, os.date
  os.time = function(t) if t == nil then return math.floor(now() / 1000) end return time(t) end
  os.clock = function() return now() / 1000 end
  os.date = function(format, t)
    if t == nil then t = math.floor(now() / 1000) end
    -- The table form in UTC, whatever the machine's time zone (fengari formats strings in
    -- local time even after '!': tributary test runs with TZ=UTC for those).
    if format == '*t' then format = '!*t' end
    return date(format, t)
  end
end
${randomSeed !== undefined ? `if math then math.randomseed(${Math.trunc(randomSeed)}) end` : ''}
`;
    const chunk = to_luastring(prelude);
    if (
      lauxlib.luaL_loadbufferx(L, chunk, chunk.length, to_luastring('=clock'), TEXT_MODE) !== lua.LUA_OK ||
      lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK
    ) {
      const msg = luaText(lua.lua_tolstring(L, -1));
      lua.lua_pop(L, 1);
      throw new TributaryError('SCRIPT', `could not pin the Lua clock: ${msg}`);
    }
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.L === undefined;
  }

  /**
   * Adds (or replaces) a function of the `tributary` module, like `m.Export` in the Go
   * original. Arguments arrive converted to JS (tables to objects/arrays, Lua functions to
   * callable JS functions); the return value goes back converted. A throw becomes a Lua error
   * `file:line: message` at the calling line of the script.
   *
   * @example
   * ```ts
   * runtime.export('my_custom_fn', (first: string, second: number) => {
   *   if (!Number.isInteger(second)) throw new Error('second must be an integer');
   *   return true;
   * });
   * // Lua: tb.my_custom_fn("arg1", 2)
   * ```
   */
  export(name: string, fn: (...args: any[]) => unknown): this {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TributaryError('BAD_OPTION', `export name '${name}' must be a Lua identifier`);
    }
    if (typeof fn !== 'function') throw new TributaryError('BAD_OPTION', `export '${name}' must be a function`);
    this.exports.set(name, fn);
    this.installed.delete(name);
    if (this.moduleRef !== undefined) this.syncModule(this.state());
    return this;
  }

  /**
   * Registers a node kind on the network's registry; the module gets `create_<kind>` at
   * once (kinds registered on the registry directly appear at the next `require`, or on
   * first use).
   *
   * @example
   * ```ts
   * runtime.registerKind(defineNode({ name: 'doubler', role: 'pipeline', … }));
   * // Lua: tb.create_doubler("d")
   * ```
   */
  registerKind(kind: NodeKind<any> | NodeFactory<any, any>): this {
    this.network.registry.register(kind);
    if (this.moduleRef !== undefined) this.syncModule(this.state());
    return this;
  }

  /**
   * Creates a node of a registered kind the way a script's `create_<kind>` does (substitutions
   * from `onCreate` and the `stdout` default apply). For exports that create nodes.
   *
   * @example
   * ```ts
   * runtime.export('create_pair', (name: string) => {
   *   runtime.create('forwarder', `${name}_in`);
   *   runtime.create('forwarder', `${name}_out`);
   *   runtime.network.link(`${name}_in`, `${name}_out`);
   *   return true;
   * });
   * ```
   */
  create(kind: string, name: string, options: Record<string, unknown> = {}, shown?: Record<string, unknown>): void {
    this.createNode(this.network.registry.get(kind), name, { ...options }, shown);
  }

  /**
   * {@link create} for a node that an operator's own configuration declares with its local
   * files (an agglo config's tees and file stores): allowed to read and write files even in
   * the sandbox, which guards scripts, not the configuration the operator runs. Everything
   * else (SQL checks, exec permission) is checked as for `create`.
   *
   * @example
   * ```ts
   * runtime.createWithFiles('tee', 'to_disk', { fileStore: { path: './out' } });
   * ```
   */
  createWithFiles(kind: string, name: string, options: Record<string, unknown> = {}, shown?: Record<string, unknown>): void {
    this.createNode(this.network.registry.get(kind), name, { ...options }, shown, true);
  }

  /**
   * Runs a script file. Errors (syntax, a failed call) are a `TributaryError` with code
   * `SCRIPT` whose message starts `file:line:`; the path is shown relative to the current
   * directory. Returns what the script returns, converted.
   *
   * @example
   * ```ts
   * runtime.runFile('examples/scripted/network.lua');
   * ```
   */
  runFile(file: string): unknown {
    let source: Buffer;
    try {
      source = readFileSync(file);
    } catch (e) {
      throw new TributaryError('SCRIPT', `cannot read script ${file}: ${errorMessage(e)}`, { cause: e });
    }
    return this.exec(source, displayPath(file));
  }

  /**
   * Runs a script given as text; `name` is how error messages call it (`name:line:`).
   *
   * @example
   * ```ts
   * runtime.runString('local tb = require("tributary")\ntb.create_forwarder("f")', 'inline.lua');
   * ```
   */
  runString(source: string, name = 'script'): unknown {
    return this.exec(Buffer.from(source, 'utf8'), name);
  }

  /**
   * How node functions ran: `functions` compiled into JS (see {@link LuaRuntimeOptions.compile}),
   * `calls` made on the compiled form, `bails` of those that ran on the VM instead.
   *
   * @example
   * ```ts
   * runtime.runString('require("tributary").create_map("double", function(n) return n * 2 end)');
   * runtime.compiledFunctions(); // { functions: 1, calls: 0, bails: 0 }
   * ```
   */
  compiledFunctions(): { functions: number; calls: number; bails: number } {
    return { ...this.bridge.compiled };
  }

  /**
   * Evaluates Lua source that yields a function (`function(p) return p * 2 end`) and returns
   * it converted exactly as a `create_*` call converts a function it gives node `node`
   * (one payload argument, the result checked to be data, errors naming the node). `line`
   * is where the source starts in `file`, so that Lua errors, at load and at call, name the
   * file's own line: how declarative network files give nodes functions.
   *
   * @example
   * ```ts
   * const double = runtime.nodeFunction('function(p) return p * 2 end', { file: 'network.yaml', line: 12, node: 'double' });
   * double(21); // 42
   * ```
   */
  nodeFunction(source: string, where: { file: string; line: number; node: string }): (...args: unknown[]) => unknown {
    const L = this.state();
    const top = lua.lua_gettop(L);
    try {
      // Blank lines in front put the source at its own line of the file in Lua's messages.
      const text = Buffer.from('\n'.repeat(Math.max(0, where.line - 1)) + 'return ' + source, 'utf8');
      const mode = this.options.sandbox === false ? null : TEXT_MODE;
      this.rememberSource(text, where.file);
      if (lauxlib.luaL_loadbufferx(L, text, text.length, to_luastring('@' + where.file), mode) !== lua.LUA_OK) {
        throw new TributaryError('SCRIPT', this.bridge.errorText(L, -1));
      }
      if (pcallLocated(L, 0, 1, lua.lua_pcall) !== lua.LUA_OK) throw new TributaryError('SCRIPT', this.bridge.errorText(L, -1, where.file));
      if (lua.lua_type(L, -1) !== lua.LUA_TFUNCTION) {
        throw new TributaryError(
          'BAD_OPTION',
          `${where.file}:${where.line}: node '${where.node}': the Lua source must be a function expression, like function(p) return p end`,
        );
      }
      // Converted by a create-like call, so the function is a node function owned by the node.
      let fn: ((...args: unknown[]) => unknown) | undefined;
      lua.lua_pushcfunction(
        L,
        this.bridge.jsFunction((_name: unknown, f: unknown) => void (fn = f as typeof fn), 'node_function', 'node'),
      );
      lua.lua_pushstring(L, to_luastring(where.node));
      lua.lua_pushvalue(L, -3);
      if (lua.lua_pcall(L, 2, 0, 0) !== lua.LUA_OK) throw new TributaryError('SCRIPT', this.bridge.errorText(L, -1, where.file));
      return fn!;
    } finally {
      if (this.L) lua.lua_settop(L, top);
    }
  }

  /**
   * Frees the VM. Lua functions held by nodes throw if called afterwards, so close after
   * the network stopped. Safe to call twice.
   *
   * @example
   * ```ts
   * await net.stop();
   * runtime.close();
   * ```
   */
  close(): void {
    if (!this.L) return;
    this.bridge.close();
    lua.lua_close(this.L);
    this.L = undefined;
  }

  private state(): LuaState {
    if (!this.L) throw new TributaryError('STATE', 'the Lua runtime is closed');
    return this.L;
  }

  private exec(source: Uint8Array, name: string): unknown {
    const L = this.state();
    const top = lua.lua_gettop(L);
    try {
      const mode = this.options.sandbox === false ? null : TEXT_MODE;
      this.rememberSource(source, name);
      if (lauxlib.luaL_loadbufferx(L, source, source.length, to_luastring('@' + name), mode) !== lua.LUA_OK) {
        throw new TributaryError('SCRIPT', this.bridge.errorText(L, -1));
      }
      const limit = this.options.scriptTimeout;
      if (limit !== undefined) this.limitTime(L, limit);
      const status = pcallLocated(L, 0, 1, lua.lua_pcall);
      if (limit !== undefined) lua.lua_sethook(L, null, 0, 0);
      if (status !== lua.LUA_OK) throw new TributaryError('SCRIPT', this.bridge.errorText(L, -1, name));
      return this.bridge.toJS(L, -1);
    } finally {
      if (this.L) lua.lua_settop(L, top);
    }
  }

  /**
   * Gives the bridge a script's text so that the node functions it defines can be compiled
   * (see `fast/compile.ts`). Text that is not UTF-8, or that ends lines with a bare CR (Lua
   * counts those as lines too), is not given: its functions stay on the VM.
   */
  private rememberSource(source: Uint8Array, name: string): void {
    if (!this.bridge.compile) return;
    let text: string;
    try {
      text = STRICT_UTF8.decode(source);
    } catch {
      return;
    }
    if (text.includes('\r')) return;
    this.bridge.addSource('@' + name, text);
  }

  /** Stops the running script with an error once `ms` have passed (checked every 10k instructions). */
  private limitTime(L: LuaState, ms: number): void {
    // Wall-clock on purpose (unless a budget clock is given): this guards the operator's
    // terminal, not the network's time.
    const now = this.options.budgetClock ?? (() => performance.now());
    const deadline = now() + ms;
    const hook = (S: LuaState) => {
      if (now() <= deadline) return;
      // Past the deadline every instruction raises, so a pcall in a loop cannot keep the script running.
      lua.lua_sethook(S, hook, lua.LUA_MASKCOUNT, 1);
      lauxlib.luaL_where(S, 0);
      lua.lua_pushstring(S, to_luastring(`script still running after ${ms} ms (an endless loop?); stopped`));
      lua.lua_concat(S, 2);
      lua.lua_error(S);
    };
    lua.lua_sethook(L, hook, lua.LUA_MASKCOUNT, 10_000);
  }

  /** Builds the node a `create_*` call asked for and adds it to the network. */
  private createNode(
    kind: NodeKind<any>,
    name: string,
    options: Record<string, unknown>,
    shown?: Record<string, unknown>,
    files = false,
  ): void {
    if (this.options.sandbox !== false) {
      if (kind.io === 'files' && !this.options.allowFiles && !files) {
        throw new TributaryError(
          'SCRIPT',
          `create_${kind.name}: node kind '${kind.name}' reads or writes local files, which a sandboxed script may not (run with --allow-files, or --no-sandbox for a trusted script; in code, give the runtime allowFiles: true)`,
        );
      }
      if (typeof options.sql === 'string') checkSandboxedSql(options.sql, `node '${name}'`);
    }
    const stdout = this.options.stdout;
    if (stdout && kind.options.output?.type === 'object' && options.output === undefined) options.output = stdout;
    const onCreate = this.options.onCreate;
    if (!onCreate) {
      this.network.create(kind.name, name, options, shown);
      return;
    }
    if (this.network.exists(name)) throw new TributaryError('DUPLICATE_NODE', `node '${name}' already exists`);
    let spec: NodeSpec;
    try {
      spec = this.network.registry.create(kind.name, options);
    } catch (e) {
      if (e instanceof TributaryError) throw new TributaryError(e.code, `node '${name}': ${e.message}`, { cause: e });
      throw e;
    }
    this.network.add(name, onCreate({ name, kind, options, spec }) ?? spec);
  }

  /** `create_<kind>`: the kind is looked up per call, so a lazy plugin loads only when a script uses it. */
  private createFn(kindName: string): LuaCFunction {
    return this.bridge.jsFunction(
      (name: unknown, ...rest: unknown[]) => {
        const kind = this.network.registry.get(kindName);
        this.createNode(kind, createName(kind, name), luaArgsToOptions(kind, rest));
        return true;
      },
      `create_${kindName}`,
      'node',
    );
  }

  /** A plugin's Lua function, made from the plugin (loading it) on first call. */
  private pluginFn(name: string): LuaCFunction {
    let fn: ((...args: any[]) => unknown) | undefined;
    return this.bridge.jsFunction((...args: unknown[]) => {
      if (!fn) {
        const make = this.network.registry.luaExport(name);
        if (!make) throw new TributaryError('STATE', `${name}: no plugin offers this function any more`);
        fn = make(this);
      }
      return fn(...args);
    }, name);
  }

  /** Creates the module table on first use, then adds whatever kinds and exports it lacks. */
  private moduleTable(L: LuaState): void {
    if (this.moduleRef === undefined) {
      lua.lua_createtable(L, 0, 32);
      for (const [name, fn] of Object.entries(coreExports(this.network))) {
        lua.lua_pushcfunction(L, this.bridge.jsFunction(fn, name));
        lua.lua_setfield(L, -2, to_luastring(name));
      }
      lua.lua_createtable(L, 0, 1);
      lua.lua_pushcfunction(L, this.indexFn());
      lua.lua_setfield(L, -2, to_luastring('__index'));
      lua.lua_setmetatable(L, -2);
      this.moduleRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    }
    this.syncModule(L);
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.moduleRef);
  }

  private syncModule(L: LuaState): void {
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, this.moduleRef!);
    // Every kind and plugin function, loaded or not (`pairs(tb)` lists them all); a lazy
    // plugin loads when a script first calls one of its functions.
    const registry = this.network.registry;
    const missing = (key: Uint8Array) => {
      lua.lua_pushstring(L, key);
      const present = lua.lua_rawget(L, -2) !== lua.LUA_TNIL;
      lua.lua_pop(L, 1);
      return !present;
    };
    for (const kindName of registry.names()) {
      const key = to_luastring(CREATE + kindName);
      if (!missing(key)) continue;
      lua.lua_pushcfunction(L, this.createFn(kindName));
      lua.lua_setfield(L, -2, key);
    }
    for (const name of registry.luaExportNames()) {
      const key = to_luastring(name);
      if (this.exports.has(name) || !missing(key)) continue;
      lua.lua_pushcfunction(L, this.pluginFn(name));
      lua.lua_setfield(L, -2, key);
    }
    for (const [name, fn] of this.exports) {
      if (this.installed.has(name)) continue;
      lua.lua_pushcfunction(L, this.bridge.jsFunction(fn, name));
      lua.lua_setfield(L, -2, to_luastring(name));
      this.installed.add(name);
    }
    lua.lua_pop(L, 1);
  }

  /**
   * Resolves a name the module table lacks: `create_<kind>` for a kind registered after
   * `require` (or in a plugin not loaded yet), a plugin's Lua function (loading its plugin),
   * or a function raising a clear error for an unknown kind. Found functions are stored in
   * the table, so the look-up runs once per name.
   */
  private indexFn(): LuaCFunction {
    return (L) => {
      if (lua.lua_type(L, 2) !== lua.LUA_TSTRING) return 0;
      const key = luaText(lua.lua_tolstring(L, 2));
      const registry = this.network.registry;
      if (!key.startsWith(CREATE)) {
        if (!registry.luaExportNames().includes(key)) return 0;
        lua.lua_pushcfunction(L, this.pluginFn(key));
        lua.lua_pushvalue(L, -1);
        lua.lua_setfield(L, 1, to_luastring(key));
        return 1;
      }
      const kindName = key.slice(CREATE.length);
      if (registry.has(kindName)) {
        lua.lua_pushcfunction(L, this.createFn(kindName));
        lua.lua_pushvalue(L, -1);
        lua.lua_setfield(L, 1, to_luastring(key));
        return 1;
      }
      const known = registry.names();
      const hint = suggest(kindName, known);
      const message = `${key}: unknown node kind '${kindName}' (known: ${known.join(', ')})${hint ? ` — did you mean 'create_${hint}'?` : ''}`;
      lua.lua_pushcfunction(L, (S) => this.bridge.raise(S, message));
      return 1;
    };
  }

  private printFn(): LuaCFunction {
    return (L) => {
      const n = lua.lua_gettop(L);
      const parts: string[] = [];
      for (let i = 1; i <= n; i++) {
        parts.push(luaText(lauxlib.luaL_tolstring(L, i)));
        lua.lua_pop(L, 1);
      }
      const out = this.options.stdout ?? process.stdout;
      out.write(parts.join('\t') + '\n');
      return 0;
    };
  }
}
