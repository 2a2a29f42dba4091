import { TributaryError, errorMessage } from '../errors';
import { isEvent } from '../event';
import { declareIgnoresEvent } from '../util/arity';
import { isThenable } from '../util/values';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import { CallBudget } from './budget';
import { errorValueText, locateError } from './error-value';
import { BAIL, compileFunction, floatValue, STANDARD_PATHS, type Compiled } from './fast/compile';
import { functionAt, tokenize, Unsupported } from './fast/parse';
import { luaText, valueText } from './strings';
import { LuaValues, NotDataError, type FunctionMode } from './values';

const SOURCE_INFO = to_luastring('>S');
const FUNCTION_INFO = to_luastring('>Su');
/** After this many calls run on the VM because the closures could not, a compiled function is given up. */
const BAIL_LIMIT = 256;

/**
 * A Lua error surfacing in JS: the message carries the script's `file:line`.
 *
 * @example
 * ```ts
 * try { luaFn(payload); } catch (e) { if (e instanceof LuaError) console.error(e.message); } // 'rules.lua:4: …'
 * ```
 */
export class LuaError extends Error {
  override readonly name = 'LuaError';
}

/**
 * Moves values between one Lua state and JS: tables ↔ objects/arrays, strings (bytes ↔
 * `Uint8Array`), numbers (32-bit Lua integers stay integers), booleans, nil, and functions
 * both ways. It also raises Lua errors that point at the calling script line.
 *
 * @example
 * ```ts
 * const bridge = new LuaBridge(L);
 * bridge.push(L, { stake: 5, tags: ['a', 'b'] }); // a Lua table on the stack
 * bridge.toJS(L, -1);                              // { stake: 5, tags: ['a', 'b'] }
 * ```
 */
export class LuaBridge extends LuaValues {
  private closed = false;
  // A JS wrapper that is garbage-collected releases its Lua function, so converting
  // functions per call does not grow the registry forever.
  private readonly released = new FinalizationRegistry<number>((ref) => {
    if (!this.closed) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  });

  /**
   * `callTimeout` is the time budget of each call of a Lua function from JS, in ms (see
   * {@link CallBudget}); `Infinity` (the default here) or 0 turns it off. `budgetClock` is
   * what the budget reads (default `performance.now`).
   */
  constructor(
    readonly L: LuaState,
    callTimeout = Infinity,
    budgetClock?: () => number,
  ) {
    super();
    this.budget = new CallBudget(callTimeout, budgetClock);
  }

  private readonly budget: CallBudget;
  /**
   * The thread node functions run on: its stack keeps the message handler at index 1, so a
   * call pushes no handler and rotates no stack (see {@link call}). Made on first use.
   */
  private callThread: LuaState | undefined;
  /** Calls under way on {@link callThread} (a Lua function → JS export → Lua function nests). */
  private depth = 0;
  /** Script text by chunk name (`@file`), for compiling node functions (see `fast/compile.ts`). */
  private readonly sources = new Map<string, { text: string; tokens?: ReturnType<typeof tokenize> | null }>();
  /** The standard functions as the libraries opened them, to know a script did not replace one. */
  private readonly standard = new Map<string, unknown>();
  /** False turns compiling node functions off (`LuaRuntimeOptions.compile`). */
  compile = true;
  /** Node functions compiled into JS and run on the VM, for specs and the bench (not a contract). */
  readonly compiled = { functions: 0, calls: 0, bails: 0 };

  /**
   * Records a chunk's text, so that node functions it defines can be compiled.
   *
   * @example
   * ```ts
   * bridge.addSource('@rules.lua', text);
   * ```
   */
  addSource(chunkName: string, text: string): void {
    this.sources.set(chunkName, { text });
  }

  /**
   * Notes the standard functions the closures reproduce (`math.floor`, `tostring` …) as they
   * are now: call it after the libraries are opened and before any script runs.
   *
   * @example
   * ```ts
   * openLibraries(L, true);
   * bridge.recordStandard(L);
   * ```
   */
  recordStandard(L: LuaState): void {
    for (const path of STANDARD_PATHS) this.standard.set(path, this.globalAt(L, path));
  }

  /** The global at a dotted path, as a C function or a number (what identifies it); undefined if neither. */
  private globalAt(L: LuaState, path: string): unknown {
    const [first, second] = path.split('.');
    const top = lua.lua_gettop(L);
    try {
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
      if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) return undefined;
      lua.lua_pushstring(L, to_luastring(first));
      lua.lua_rawget(L, -2);
      if (second !== undefined) {
        if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) return undefined;
        lua.lua_pushstring(L, to_luastring(second));
        lua.lua_rawget(L, -2);
      }
      const t = lua.lua_type(L, -1);
      if (t === lua.LUA_TFUNCTION) return lua.lua_tocfunction(L, -1) ?? undefined;
      if (t === lua.LUA_TNUMBER) return lua.lua_tonumber(L, -1);
      return undefined;
    } finally {
      lua.lua_settop(L, top);
    }
  }

  /** The function at `idx` compiled into closures, or undefined when it is outside the subset. */
  private compileAt(L: LuaState, idx: number): Compiled | undefined {
    if (!this.compile) return undefined;
    const fnIdx = lua.lua_absindex(L, idx);
    const ar = new lua.lua_Debug();
    lua.lua_pushvalue(L, fnIdx);
    lua.lua_getinfo(L, FUNCTION_INFO, ar); // pops the copy
    if (ar.isvararg || ar.source === null || luaText(ar.what) !== 'Lua') return undefined;
    const source = this.sources.get(luaText(ar.source));
    if (!source) return undefined;
    if (source.tokens === undefined) {
      try {
        source.tokens = tokenize(source.text);
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        source.tokens = null;
      }
    }
    if (!source.tokens) return undefined;
    const ast = functionAt(source.tokens, ar.linedefined, ar.lastlinedefined, ar.nparams);
    if (!ast) return undefined;
    const upvalues = new Map<string, number>();
    let envIsGlobals = false;
    for (let i = 1; ; i++) {
      const name = lua.lua_getupvalue(L, fnIdx, i);
      if (name === null) break;
      const text = luaText(name);
      if (text === '_ENV') {
        lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
        envIsGlobals = lua.lua_rawequal(L, -1, -2);
        lua.lua_pop(L, 1);
      } else upvalues.set(text, i);
      lua.lua_pop(L, 1);
    }
    try {
      return compileFunction(ast, {
        upvalueIndex: (name) => upvalues.get(name),
        isStandard: (path) =>
          envIsGlobals &&
          !upvalues.has(path.split('.')[0]) &&
          this.standard.get(path) !== undefined &&
          this.standard.get(path) === this.globalAt(L, path),
      });
    } catch (e) {
      if (e instanceof Unsupported) return undefined;
      throw e;
    }
  }

  /** Upvalue `i` of the function kept at `ref`, as the closures carry values; BAIL for tables and functions. */
  private readUpvalue(ref: number, i: number): unknown {
    const T = this.thread();
    const top = lua.lua_gettop(T);
    try {
      lua.lua_rawgeti(T, lua.LUA_REGISTRYINDEX, ref);
      lua.lua_getupvalue(T, -1, i);
      switch (lua.lua_type(T, -1)) {
        case lua.LUA_TNIL:
          return undefined;
        case lua.LUA_TBOOLEAN:
          return lua.lua_toboolean(T, -1);
        case lua.LUA_TNUMBER:
          if (lua.lua_isinteger(T, -1)) return lua.lua_tointeger(T, -1);
          return floatValue(lua.lua_tonumber(T, -1));
        case lua.LUA_TSTRING: {
          const v = valueText(lua.lua_tolstring(T, -1)!);
          if (typeof v === 'string') return v;
          throw BAIL;
        }
        default:
          throw BAIL;
      }
    } finally {
      lua.lua_settop(T, top);
    }
  }
  /** The node a `create_*` call (mode `node`) is converting arguments for, while it does. */
  private owner: string | undefined;

  /**
   * After this, calling a converted Lua function throws instead of touching the freed VM.
   *
   * @example
   * ```ts
   * bridge.close();
   * lua.lua_close(L);
   * ```
   */
  close(): void {
    this.closed = true;
  }

  /**
   * A Lua C function calling `fn` with converted arguments and pushing its converted result.
   * A throw becomes a Lua error at the calling script line (`file:line: message`); a returned
   * Promise is an error too, since a script builds its graph synchronously. `mode` says how
   * Lua functions among the arguments are converted.
   *
   * @example
   * ```ts
   * lua.lua_pushcfunction(L, bridge.jsFunction((a: number, b: number) => a + b, 'add'));
   * ```
   */
  jsFunction(fn: (...args: any[]) => unknown, name: string, mode: FunctionMode = 'plain'): LuaCFunction {
    return (L) => {
      let result: unknown;
      let failure: string | undefined;
      try {
        const n = lua.lua_gettop(L);
        const args: unknown[] = new Array(n);
        if (mode === 'node' && n > 0) {
          // A create_* call: its first argument names the node its functions are for.
          args[0] = this.toJS(L, 1, mode);
          this.owner = typeof args[0] === 'string' ? args[0] : undefined;
          try {
            for (let i = 1; i < n; i++) args[i] = this.toJS(L, i + 1, mode);
          } finally {
            this.owner = undefined;
          }
        } else for (let i = 0; i < n; i++) args[i] = this.toJS(L, i + 1, mode);
        result = fn(...args);
        if (isThenable(result)) failure = `${name} returned a Promise; functions called from Lua must be synchronous`;
      } catch (e) {
        // A Lua error from a Lua function the export called already names its script line.
        if (e instanceof LuaError) {
          lua.lua_pushstring(L, to_luastring(e.message));
          return lua.lua_error(L);
        }
        failure = errorMessage(e);
      }
      // Raised outside the catch: lua_error unwinds with a JS throw, which must not be caught here.
      if (failure !== undefined) return this.raise(L, failure);
      if (result === undefined) return 0;
      const top = lua.lua_gettop(L);
      try {
        this.push(L, result);
      } catch (e) {
        failure = `${name} returned a value Lua cannot hold: ${errorMessage(e)}`;
      }
      if (failure !== undefined) {
        lua.lua_settop(L, top); // drop what a failed conversion left half-built
        return this.raise(L, failure);
      }
      return 1;
    };
  }

  /**
   * Raises a Lua error `file:line: message`, the line being the script's call into the
   * current C function. Never returns (fengari unwinds with a JS throw).
   *
   * @example
   * ```ts
   * if (typeof name !== 'string') return bridge.raise(L, 'link: from must be a node name');
   * ```
   */
  raise(L: LuaState, message: string): never {
    lauxlib.luaL_where(L, 1);
    lua.lua_pushstring(L, to_luastring(message));
    lua.lua_concat(L, 2);
    return lua.lua_error(L);
  }

  /**
   * The message of the Lua error value at `idx` (see {@link errorValueText}: `error(nil)` is
   * `error called with nil`, a table its `__tostring` or JSON-like text; calls made through
   * `pcallLocated` already carry the line of the `error` call); `where` (the function's
   * definition) is prepended when the message has no position of its own (`error("x", 0)`).
   *
   * @example
   * ```ts
   * if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new LuaError(bridge.errorText(L, -1, 'net.lua'));
   * ```
   */
  errorText(L: LuaState, idx: number, where?: string): string {
    const msg = errorValueText(L, idx, (S, nargs, nresults) => this.budget.pcall(S, nargs, nresults));
    return where && !/^.*?:\d+: /.test(msg) ? `${where}: ${msg}` : msg;
  }

  protected wrapFunction(L: LuaState, idx: number, mode: FunctionMode): (...args: unknown[]) => unknown {
    lua.lua_pushvalue(L, idx);
    const ar = new lua.lua_Debug();
    lua.lua_getinfo(L, SOURCE_INFO, ar); // pops the copy
    const where = ar.linedefined > 0 ? `${luaText(ar.short_src)}:${ar.linedefined}` : luaText(ar.short_src);
    lua.lua_pushvalue(L, idx);
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    let fn: (...args: unknown[]) => unknown;
    if (mode === 'node') {
      const owner = this.owner === undefined ? 'the Lua function' : `node '${this.owner}': the Lua function`;
      let one: (payload: unknown) => unknown;
      const compiled = this.compileAt(L, idx);
      if (compiled) {
        this.compiled.functions++;
        const upvalue = (i: number): unknown => this.readUpvalue(ref, i);
        let calls = 0;
        let bails = 0;
        let off = false;
        one = (payload: unknown) => {
          if (off || this.closed) return this.call1(ref, payload, where, owner);
          calls++;
          this.compiled.calls++;
          try {
            return compiled(payload, upvalue);
          } catch {
            // BAIL, or anything unforeseen: the VM gives the exact result or error. A function
            // whose calls mostly end up on the VM anyway is left there.
            bails++;
            this.compiled.bails++;
            if (bails >= BAIL_LIMIT && bails * 2 >= calls) off = true;
            return this.call1(ref, payload, where, owner);
          }
        };
      } else one = (payload: unknown) => this.call1(ref, payload, where, owner);
      // Usually the payload, then the event the core passes (not given to Lua). A stateful
      // node's function takes its state first: the arguments up to the event go to Lua.
      // Called as (payload, event) it does what (payload) does: a fused chain may leave the event out.
      fn = declareIgnoresEvent((a: unknown, b?: unknown, ...rest: unknown[]) => {
        if (b === undefined || isEvent(b)) return one(a);
        const args = [a, b, ...rest];
        const cut = args.findIndex((x, i) => i > 0 && isEvent(x));
        return this.call(ref, cut < 0 ? args : args.slice(0, cut), where, owner);
      });
    } else fn = (...args: unknown[]) => this.call(ref, args, where);
    this.released.register(fn, ref);
    Object.defineProperty(fn, 'name', { value: `lua function (${where})` });
    return fn;
  }

  /** The call thread, made on first use: anchored in the registry, handler at index 1, budget hook set. */
  private thread(): LuaState {
    if (this.callThread) return this.callThread;
    const T = lua.lua_newthread(this.L);
    lauxlib.luaL_ref(this.L, lua.LUA_REGISTRYINDEX); // pops it; the registry keeps it alive
    lua.lua_pushcfunction(T, locateError);
    this.budget.install(T);
    return (this.callThread = T);
  }

  /**
   * A node's function called with its payload: on the call thread, where the handler sits at
   * index 1 and the budget's hook stays set, so a call costs one `lua_pcall` and the
   * conversions. A nested call (the function called an export that calls back into Lua) runs
   * above the running frame, where index 1 is not the handler: it takes the general path.
   */
  private call1(ref: number, payload: unknown, where: string, owner: string): unknown {
    if (this.closed) throw new TributaryError('STATE', `the Lua runtime is closed; cannot call the function defined at ${where}`);
    if (this.depth > 0) return this.call(ref, [payload], where, owner);
    const T = this.thread();
    this.depth++;
    try {
      if (!lua.lua_checkstack(T, 2)) throw new RangeError('Lua stack overflow');
      lua.lua_rawgeti(T, lua.LUA_REGISTRYINDEX, ref);
      this.push(T, payload);
      if (this.budget.pcallOwn(T, 1, 1, 1) !== lua.LUA_OK) throw new LuaError(this.errorText(T, -1, where));
      try {
        return this.toJS(T, -1, 'result');
      } catch (e) {
        if (!(e instanceof NotDataError)) throw e;
        const at = e.path ? ` at ${e.path}` : '';
        throw new LuaError(`${where}: ${owner} returned ${e.what}${at}, which is not a payload`);
      }
    } finally {
      this.depth--;
      lua.lua_settop(T, 1);
    }
  }

  /**
   * Calls a Lua function kept in the registry; a Lua error is thrown as a {@link LuaError}.
   * With `owner` (a function given to a node) the result is data the node passes on, so a
   * function, coroutine, userdata, NaN or ±inf in it is an error naming the node.
   */
  private call(ref: number, args: unknown[], where: string, owner?: string): unknown {
    if (this.closed) throw new TributaryError('STATE', `the Lua runtime is closed; cannot call the function defined at ${where}`);
    const L = this.L;
    const top = lua.lua_gettop(L);
    try {
      if (!lua.lua_checkstack(L, args.length + 1)) throw new RangeError('Lua stack overflow');
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
      for (const a of args) this.push(L, a);
      if (this.budget.pcall(L, args.length, 1) !== lua.LUA_OK) throw new LuaError(this.errorText(L, -1, where));
      if (owner === undefined) return this.toJS(L, -1);
      try {
        return this.toJS(L, -1, 'result');
      } catch (e) {
        if (!(e instanceof NotDataError)) throw e;
        const at = e.path ? ` at ${e.path}` : '';
        throw new LuaError(`${where}: ${owner} returned ${e.what}${at}, which is not a payload`);
      }
    } finally {
      lua.lua_settop(L, top);
    }
  }
}
