import { TributaryError, errorMessage } from '../errors';
import { isEvent } from '../event';
import { isThenable } from '../util/values';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import { CallBudget } from './budget';
import { errorValueText } from './error-value';
import { luaText } from './strings';
import { LuaValues, NotDataError, type FunctionMode } from './values';

const SOURCE_INFO = to_luastring('>S');

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
      // The payload and what precedes the event (a stateful node's state comes first), never
      // the event object the core passes after them.
      fn = (...args: unknown[]) => {
        const cut = args.findIndex((a, i) => i > 0 && isEvent(a));
        return this.call(ref, cut < 0 ? args : args.slice(0, cut), where, owner);
      };
    } else fn = (...args: unknown[]) => this.call(ref, args, where);
    this.released.register(fn, ref);
    Object.defineProperty(fn, 'name', { value: `lua function (${where})` });
    return fn;
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
