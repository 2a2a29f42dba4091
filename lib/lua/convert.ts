import { TributaryError, errorMessage } from '../errors';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const SOURCE_INFO = to_luastring('>S');

/** A Lua error surfacing in JS: the message carries the script's `file:line`. */
export class LuaError extends Error {
  override readonly name = 'LuaError';
}

/**
 * How a Lua function is turned into a JS function. `node` is for functions given to nodes
 * (`create_map(name, function(p) … end)`): they receive only the node's first argument (the
 * payload), and `nil` comes back as `null` so payloads stay JSON-friendly.
 */
export type FunctionMode = 'plain' | 'node';

/**
 * Decodes a Lua string: UTF-8 text becomes a JS string, anything else (binary data) a
 * `Uint8Array` copy.
 *
 * @example
 * ```ts
 * luaBytesToJS(new Uint8Array([104, 105])); // 'hi'
 * luaBytesToJS(new Uint8Array([0xff]));     // Uint8Array [255]
 * ```
 */
export function luaBytesToJS(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return Uint8Array.from(bytes);
  }
}

/** A Lua string as JS text (binary bytes replaced), for messages. */
export function luaText(bytes: Uint8Array | null): string {
  return bytes === null ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
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
export class LuaBridge {
  private closed = false;
  // A JS wrapper that is garbage-collected releases its Lua function, so converting
  // functions per call does not grow the registry forever.
  private readonly released = new FinalizationRegistry<number>((ref) => {
    if (!this.closed) lauxlib.luaL_unref(this.L, lua.LUA_REGISTRYINDEX, ref);
  });

  constructor(readonly L: LuaState) {}

  /** After this, calling a converted Lua function throws instead of touching the freed VM. */
  close(): void {
    this.closed = true;
  }

  /**
   * Converts the Lua value at `idx` to JS. Lua functions become JS functions (see
   * {@link FunctionMode}); an empty table becomes `[]` (iterable, and reads like an empty
   * object); a table whose keys are exactly 1..n becomes an array, any other an object.
   *
   * @example
   * ```ts
   * const args = [bridge.toJS(L, 1), bridge.toJS(L, 2)];
   * ```
   */
  toJS(L: LuaState, idx: number, mode: FunctionMode = 'plain', seen?: Set<unknown>): unknown {
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TNIL:
      case lua.LUA_TNONE:
        return undefined;
      case lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, idx);
      case lua.LUA_TNUMBER:
        return lua.lua_isinteger(L, idx) ? lua.lua_tointeger(L, idx) : lua.lua_tonumber(L, idx);
      case lua.LUA_TSTRING:
        return luaBytesToJS(lua.lua_tolstring(L, idx)!);
      case lua.LUA_TTABLE:
        return this.tableToJS(L, idx, mode, seen ?? new Set());
      case lua.LUA_TFUNCTION:
        return this.wrapFunction(L, idx, mode);
      case lua.LUA_TLIGHTUSERDATA:
        return lua.lua_touserdata(L, idx);
      default:
        throw new TypeError(`cannot convert a Lua ${lua.lua_type(L, idx) === lua.LUA_TTHREAD ? 'coroutine' : 'userdata'} to JS`);
    }
  }

  /**
   * Pushes a JS value onto the Lua stack: arrays and Sets become sequences, objects and Maps
   * tables, `Uint8Array` a Lua string of those bytes, `Date` its ISO text, functions callable
   * Lua functions, `null`/`undefined` nil. Cyclic values are an error.
   *
   * @example
   * ```ts
   * bridge.push(L, [1, 2, 3]);
   * ```
   */
  push(L: LuaState, value: unknown, seen?: Set<object>): void {
    switch (typeof value) {
      case 'undefined':
        return lua.lua_pushnil(L);
      case 'boolean':
        return lua.lua_pushboolean(L, value);
      case 'number':
        if (Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX) return lua.lua_pushinteger(L, value);
        return lua.lua_pushnumber(L, value);
      case 'bigint':
        return lua.lua_pushnumber(L, Number(value));
      case 'string':
        lua.lua_pushstring(L, to_luastring(value));
        return;
      case 'function':
        return lua.lua_pushcfunction(L, this.jsFunction(value as (...args: unknown[]) => unknown, value.name || 'function'));
      case 'symbol':
        return lua.lua_pushnil(L);
    }
    if (value === null) return lua.lua_pushnil(L);
    if (value instanceof Uint8Array) {
      lua.lua_pushstring(L, value);
      return;
    }
    if (ArrayBuffer.isView(value)) {
      lua.lua_pushstring(L, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      return;
    }
    if (value instanceof ArrayBuffer) {
      lua.lua_pushstring(L, new Uint8Array(value));
      return;
    }
    if (value instanceof Date) {
      lua.lua_pushstring(L, to_luastring(value.toISOString()));
      return;
    }
    const obj = value as object;
    const visiting = seen ?? new Set<object>();
    if (visiting.has(obj)) throw new TypeError('cannot convert a cyclic value to Lua');
    visiting.add(obj);
    if (!lua.lua_checkstack(L, 3)) throw new RangeError('value nested too deeply to convert to Lua');
    if (Array.isArray(obj) || obj instanceof Set) {
      const items = Array.isArray(obj) ? obj : [...obj];
      lua.lua_createtable(L, items.length, 0);
      for (let i = 0; i < items.length; i++) {
        this.push(L, items[i], visiting);
        lua.lua_rawseti(L, -2, i + 1);
      }
    } else {
      const entries: [unknown, unknown][] = obj instanceof Map ? [...obj] : Object.entries(obj);
      lua.lua_createtable(L, 0, entries.length);
      for (const [k, v] of entries) {
        if (v === undefined || typeof v === 'symbol') continue;
        this.push(L, k, visiting);
        this.push(L, v, visiting);
        lua.lua_rawset(L, -3);
      }
    }
    visiting.delete(obj);
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
        for (let i = 0; i < n; i++) args[i] = this.toJS(L, i + 1, mode);
        result = fn(...args);
        if (isThenable(result)) failure = `${name} returned a Promise; functions called from Lua must be synchronous`;
      } catch (e) {
        failure = errorMessage(e);
      }
      if (failure !== undefined) return this.raise(L, failure);
      if (result === undefined) return 0;
      try {
        this.push(L, result);
      } catch (e) {
        return this.raise(L, `${name} returned a value Lua cannot hold: ${errorMessage(e)}`);
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
   * The message of the Lua error value at `idx`; `where` (the function's definition) is
   * prepended when the message has no position of its own (`error("x", 0)`, a table).
   */
  errorText(L: LuaState, idx: number, where?: string): string {
    let msg: string;
    const t = lua.lua_type(L, idx);
    if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) msg = luaText(lua.lua_tolstring(L, idx));
    else if (t === lua.LUA_TLIGHTUSERDATA) msg = errorMessage(lua.lua_touserdata(L, idx));
    else if (t === lua.LUA_TNIL) msg = 'nil';
    else {
      try {
        msg = JSON.stringify(this.toJS(L, idx)) ?? 'error object';
      } catch {
        msg = `a ${luaText(lua.lua_typename(L, t))} value`;
      }
    }
    return where && !/^.*?:\d+: /.test(msg) ? `${where}: ${msg}` : msg;
  }

  private tableToJS(L: LuaState, index: number, mode: FunctionMode, seen: Set<unknown>): unknown {
    const idx = lua.lua_absindex(L, index);
    const identity = lua.lua_topointer(L, idx);
    if (seen.has(identity)) throw new TypeError('cannot convert a cyclic Lua table to JS');
    seen.add(identity);
    if (!lua.lua_checkstack(L, 3)) throw new RangeError('Lua table nested too deeply to convert');
    const keys: (string | number)[] = [];
    const values: unknown[] = [];
    let sequence = true;
    let max = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      const kt = lua.lua_type(L, -2);
      let key: string | number;
      if (kt === lua.LUA_TNUMBER && lua.lua_isinteger(L, -2)) {
        key = lua.lua_tointeger(L, -2);
        if (key < 1) sequence = false;
        else if (key > max) max = key;
      } else {
        sequence = false;
        if (kt === lua.LUA_TSTRING) key = luaText(lua.lua_tolstring(L, -2));
        else if (kt === lua.LUA_TNUMBER) key = String(lua.lua_tonumber(L, -2));
        else if (kt === lua.LUA_TBOOLEAN) key = String(lua.lua_toboolean(L, -2));
        else {
          lua.lua_pop(L, 2);
          throw new TypeError(`cannot convert a Lua table with ${luaText(lua.lua_typename(L, kt))} keys to JS`);
        }
      }
      keys.push(key);
      values.push(this.toJS(L, -1, mode, seen));
      lua.lua_pop(L, 1);
    }
    seen.delete(identity);
    if (sequence && max === keys.length) {
      const arr = new Array(max);
      for (let i = 0; i < keys.length; i++) arr[(keys[i] as number) - 1] = values[i];
      return arr;
    }
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = String(keys[i]);
      if (k === '__proto__') Object.defineProperty(obj, k, { value: values[i], enumerable: true, writable: true, configurable: true });
      else obj[k] = values[i];
    }
    return obj;
  }

  private wrapFunction(L: LuaState, idx: number, mode: FunctionMode): (...args: unknown[]) => unknown {
    lua.lua_pushvalue(L, idx);
    const ar = new lua.lua_Debug();
    lua.lua_getinfo(L, SOURCE_INFO, ar); // pops the copy
    const where = ar.linedefined > 0 ? `${luaText(ar.short_src)}:${ar.linedefined}` : luaText(ar.short_src);
    lua.lua_pushvalue(L, idx);
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    const fn =
      mode === 'node'
        ? (payload: unknown) => {
            const r = this.call(ref, [payload], where);
            return r === undefined ? null : r;
          }
        : (...args: unknown[]) => this.call(ref, args, where);
    this.released.register(fn, ref);
    Object.defineProperty(fn, 'name', { value: `lua function (${where})` });
    return fn;
  }

  /** Calls a Lua function kept in the registry; a Lua error is thrown as a {@link LuaError}. */
  private call(ref: number, args: unknown[], where: string): unknown {
    if (this.closed) throw new TributaryError('STATE', `the Lua runtime is closed; cannot call the function defined at ${where}`);
    const L = this.L;
    const top = lua.lua_gettop(L);
    try {
      if (!lua.lua_checkstack(L, args.length + 1)) throw new RangeError('Lua stack overflow');
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
      for (const a of args) this.push(L, a);
      if (lua.lua_pcall(L, args.length, 1, 0) !== lua.LUA_OK) throw new LuaError(this.errorText(L, -1, where));
      return this.toJS(L, -1);
    } finally {
      lua.lua_settop(L, top);
    }
  }
}

function isThenable(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}
