import { TributaryError, errorMessage } from '../errors';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const SOURCE_INFO = to_luastring('>S');
/** Strings kept in the Lua registry for pushing without re-encoding (object keys, mostly). */
const KEY_CACHE_LIMIT = 4096;
/** Deeper values are refused: this is also how cycles are caught. */
const MAX_DEPTH = 100;
const KEY_MAX_LENGTH = 64;
/** Decoded table keys by their Lua byte array: constant keys in a script reuse one array. */
const decodedKeys = new WeakMap<Uint8Array, string>();

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
 * How a Lua function is turned into a JS function. `node` is for functions given to nodes
 * (`create_map(name, function(p) … end)`): they receive only the node's first argument (the
 * payload, or the event for event-level kinds), not the event the core passes as well.
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

/**
 * A Lua string as JS text (invalid UTF-8 replaced), for names and messages.
 *
 * @example
 * ```ts
 * luaText(lua.lua_tolstring(L, 1)); // 'ticker_500ms'
 * ```
 */
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

  private readonly keyRefs = new Map<string, number>();

  constructor(readonly L: LuaState) {}

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
   * Converts the Lua value at `idx` to JS. Lua functions become JS functions (see
   * {@link FunctionMode}); an empty table becomes `[]` (iterable, and reads like an empty
   * object); a table whose keys are exactly 1..n becomes an array, any other an object.
   *
   * @example
   * ```ts
   * const args = [bridge.toJS(L, 1), bridge.toJS(L, 2)];
   * ```
   */
  toJS(L: LuaState, idx: number, mode: FunctionMode = 'plain', depth = 0): unknown {
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
        return this.tableToJS(L, idx, mode, depth);
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
   * tables, `Uint8Array` a Lua string of those bytes, objects with `toJSON` (a `Date`: ISO
   * text) what that returns, functions callable
   * Lua functions, `null`/`undefined` nil. Cyclic (or over 100 levels deep) values are an error.
   *
   * @example
   * ```ts
   * bridge.push(L, [1, 2, 3]);
   * ```
   */
  push(L: LuaState, value: unknown, depth = 0): void {
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
    // Depth instead of a visited set: cheaper per event, and a cycle is just "too deep".
    if (depth >= MAX_DEPTH) throw new TypeError(`cannot convert a cyclic value (or one nested over ${MAX_DEPTH} levels) to Lua`);
    if (!lua.lua_checkstack(L, 3)) throw new RangeError('value nested too deeply to convert to Lua');
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const obj = value as Record<string, unknown>;
      lua.lua_createtable(L, 0, 4);
      for (const k in obj) {
        const v = obj[k];
        if (v === undefined || typeof v === 'symbol') continue;
        this.pushKey(L, k);
        this.push(L, v, depth + 1);
        lua.lua_rawset(L, -3);
      }
      return;
    }
    if (Array.isArray(value) || value instanceof Set) {
      const items: unknown[] = Array.isArray(value) ? value : [...value];
      lua.lua_createtable(L, items.length, 0);
      for (let i = 0; i < items.length; i++) {
        this.push(L, items[i], depth + 1);
        lua.lua_rawseti(L, -2, i + 1);
      }
      return;
    }
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
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      // Dates become ISO text; class instances with a JSON form (event metadata …) that form.
      return this.push(L, (value as { toJSON(): unknown }).toJSON(), depth + 1);
    }
    const entries: [unknown, unknown][] = value instanceof Map ? [...value] : Object.entries(value as object);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, v] of entries) {
      if (v === undefined || typeof v === 'symbol') continue;
      if (typeof k === 'string') this.pushKey(L, k);
      else this.push(L, k, depth + 1);
      this.push(L, v, depth + 1);
      lua.lua_rawset(L, -3);
    }
  }

  /**
   * Pushes an object key. Payloads repeat the same few keys, so their Lua strings are made
   * once and kept in the registry (up to a limit), which saves encoding and hashing per event.
   */
  private pushKey(L: LuaState, key: string): void {
    const ref = this.keyRefs.get(key);
    if (ref !== undefined) {
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
      return;
    }
    lua.lua_pushstring(L, to_luastring(key));
    if (key.length <= KEY_MAX_LENGTH && this.keyRefs.size < KEY_CACHE_LIMIT) {
      lua.lua_pushvalue(L, -1);
      this.keyRefs.set(key, lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX));
    }
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
        // A Lua error from a Lua function the export called already names its script line.
        if (e instanceof LuaError) {
          lua.lua_pushstring(L, to_luastring(e.message));
          return lua.lua_error(L);
        }
        failure = errorMessage(e);
      }
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
   * The message of the Lua error value at `idx`; `where` (the function's definition) is
   * prepended when the message has no position of its own (`error("x", 0)`, a table).
   *
   * @example
   * ```ts
   * if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new LuaError(bridge.errorText(L, -1, 'net.lua'));
   * ```
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

  private tableToJS(L: LuaState, index: number, mode: FunctionMode, depth: number): unknown {
    if (depth >= MAX_DEPTH) throw new TypeError(`cannot convert a cyclic Lua table (or one nested over ${MAX_DEPTH} levels) to JS`);
    const idx = lua.lua_absindex(L, index);
    if (!lua.lua_checkstack(L, 3)) throw new RangeError('Lua table nested too deeply to convert');
    const n = lua.lua_rawlen(L, idx);
    if (n > 0) {
      // A sequence 1..n with no other keys is an array; anything else an object.
      const arr = new Array(n);
      let holes = false;
      for (let i = 1; i <= n; i++) {
        if (lua.lua_rawgeti(L, idx, i) === lua.LUA_TNIL) {
          lua.lua_pop(L, 1);
          holes = true;
          break;
        }
        arr[i - 1] = this.toJS(L, -1, mode, depth + 1);
        lua.lua_pop(L, 1);
      }
      if (!holes) {
        // fengari tables have no array part (next() follows insertion order), so count the keys.
        let keys = 0;
        lua.lua_pushnil(L);
        while (lua.lua_next(L, idx) !== 0) {
          lua.lua_pop(L, 1);
          if (++keys > n) {
            lua.lua_pop(L, 1);
            break;
          }
        }
        if (keys === n) return arr;
      }
    }
    const obj: Record<string, unknown> = {};
    let empty = true;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      const kt = lua.lua_type(L, -2);
      let key: string;
      if (kt === lua.LUA_TSTRING) key = keyText(lua.lua_tolstring(L, -2)!);
      else if (kt === lua.LUA_TNUMBER) key = String(lua.lua_isinteger(L, -2) ? lua.lua_tointeger(L, -2) : lua.lua_tonumber(L, -2));
      else if (kt === lua.LUA_TBOOLEAN) key = String(lua.lua_toboolean(L, -2));
      else {
        lua.lua_pop(L, 2);
        throw new TypeError(`cannot convert a Lua table with ${luaText(lua.lua_typename(L, kt))} keys to JS`);
      }
      const v = this.toJS(L, -1, mode, depth + 1);
      if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      empty = false;
      lua.lua_pop(L, 1);
    }
    return empty ? [] : obj;
  }

  private wrapFunction(L: LuaState, idx: number, mode: FunctionMode): (...args: unknown[]) => unknown {
    lua.lua_pushvalue(L, idx);
    const ar = new lua.lua_Debug();
    lua.lua_getinfo(L, SOURCE_INFO, ar); // pops the copy
    const where = ar.linedefined > 0 ? `${luaText(ar.short_src)}:${ar.linedefined}` : luaText(ar.short_src);
    lua.lua_pushvalue(L, idx);
    const ref = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
    const fn = mode === 'node' ? (payload: unknown) => this.call(ref, [payload], where) : (...args: unknown[]) => this.call(ref, args, where);
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

function keyText(bytes: Uint8Array): string {
  let text = decodedKeys.get(bytes);
  if (text === undefined) {
    text = luaText(bytes);
    decodedKeys.set(bytes, text);
  }
  return text;
}

function isThenable(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}
