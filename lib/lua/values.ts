import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import { keyText, luaBytesToJS, luaText } from './strings';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
/** Strings kept in the Lua registry for pushing without re-encoding (object keys, mostly). */
const KEY_CACHE_LIMIT = 4096;
/** Deeper values are refused: this is also how cycles are caught. */
const MAX_DEPTH = 100;
const KEY_MAX_LENGTH = 64;

/**
 * How a Lua value is converted. `node` is for functions given to nodes
 * (`create_map(name, function(p) … end)`): they receive the node's arguments up to the event
 * the core passes as well (the payload; a stateful node's state and payload), not the event.
 * `result` is for what such a function returns: it becomes data a node passes on, so a
 * function, coroutine or userdata, NaN or ±inf anywhere in it is refused with a
 * {@link NotDataError} instead of becoming a JS function, or `null` once serialised.
 */
export type FunctionMode = 'plain' | 'node' | 'result';

/**
 * Thrown by {@link LuaValues.toJS} in `result` mode for a value that is not data: `what`
 * says what it was in Lua terms (`a function`, `NaN`, `math.huge` …), `path` where it sat in
 * the returned value (`''` for the value itself, else like `.score` or `[2].name`).
 *
 * @example
 * ```ts
 * try { bridge.toJS(L, -1, 'result'); } catch (e) { if (e instanceof NotDataError) console.error(`returned ${e.what}${e.path && ` at ${e.path}`}`); }
 * ```
 */
export class NotDataError extends TypeError {
  override readonly name = 'NotDataError';
  constructor(
    readonly what: string,
    public path = '',
  ) {
    super(`${what}${path && ` at ${path}`} is not data`);
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Re-throws `e` with `step` (a table key) prepended to its path, if it is a {@link NotDataError}. */
function withPathStep(e: unknown, step: string | number): unknown {
  if (!(e instanceof NotDataError)) return e;
  const key = typeof step === 'number' ? `[${step}]` : IDENTIFIER.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  e.path = key + e.path;
  e.message = `${e.what} at ${e.path} is not data`;
  return e;
}

function numberText(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'math.huge (inf)' : '-math.huge (-inf)';
}

/**
 * Data conversion between a Lua stack and JS: tables ↔ objects/arrays, strings (bytes ↔
 * `Uint8Array`), numbers (32-bit Lua integers stay integers), booleans and nil. Functions
 * are left to the subclass (`LuaBridge`), since calling across needs the Lua state and
 * its life, which plain data does not.
 *
 * @example
 * ```ts
 * class Bridge extends LuaValues {
 *   protected wrapFunction() { return () => undefined; }
 *   jsFunction(): LuaCFunction { return () => 0; }
 * }
 * new Bridge().push(L, { stake: 5 });
 * ```
 */
export abstract class LuaValues {
  private readonly keyRefs = new Map<string, number>();

  /**
   * A Lua C function calling `fn` with converted arguments; {@link push} uses it for JS
   * functions.
   *
   * @example
   * ```ts
   * lua.lua_pushcfunction(L, bridge.jsFunction((a: number, b: number) => a + b, 'add'));
   * ```
   */
  abstract jsFunction(fn: (...args: any[]) => unknown, name: string, mode?: FunctionMode): LuaCFunction;

  /** The JS function calling the Lua function at `idx`; {@link toJS} uses it. */
  protected abstract wrapFunction(L: LuaState, idx: number, mode: FunctionMode): (...args: unknown[]) => unknown;

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
      case lua.LUA_TNUMBER: {
        if (lua.lua_isinteger(L, idx)) return lua.lua_tointeger(L, idx);
        const n = lua.lua_tonumber(L, idx);
        if (mode === 'result' && !Number.isFinite(n)) throw new NotDataError(numberText(n));
        return n;
      }
      case lua.LUA_TSTRING:
        return luaBytesToJS(lua.lua_tolstring(L, idx)!);
      case lua.LUA_TTABLE:
        return this.tableToJS(L, idx, mode, depth);
      case lua.LUA_TFUNCTION:
        if (mode === 'result') throw new NotDataError('a function');
        return this.wrapFunction(L, idx, mode);
      case lua.LUA_TLIGHTUSERDATA:
        if (mode === 'result') throw new NotDataError('a userdata');
        return lua.lua_touserdata(L, idx);
      default:
        if (mode === 'result') throw new NotDataError(lua.lua_type(L, idx) === lua.LUA_TTHREAD ? 'a coroutine' : 'a userdata');
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
        try {
          arr[i - 1] = this.toJS(L, -1, mode, depth + 1);
        } catch (e) {
          throw withPathStep(e, i);
        }
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
      let v: unknown;
      try {
        v = this.toJS(L, -1, mode, depth + 1);
      } catch (e) {
        throw withPathStep(e, kt === lua.LUA_TNUMBER ? Number(key) : key);
      }
      // A '__proto__' key assigned plainly would set the prototype, not a property.
      if (key === '__proto__') Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      else obj[key] = v;
      empty = false;
      lua.lua_pop(L, 1);
    }
    return empty ? [] : obj;
  }
}
