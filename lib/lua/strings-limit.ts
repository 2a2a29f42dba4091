import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';

/** Default {@link limitStrings} bound: 64 MiB. */
export const DEFAULT_MAX_STRING_BYTES = 64 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * Bounds the strings the library functions build for a script at `maxBytes` bytes, so that
 * `string.rep("x", 2^30)` or doubling a string in a loop fails with a Lua error naming the
 * limit instead of allocating gigabytes:
 * - `string.rep` and `table.concat` compute the result's size first and refuse before
 *   allocating anything;
 * - `string.format` and `string.gsub` check their result once built (each input was bounded
 *   already, so what they allocate stays within a small multiple of the limit; a `gsub` whose
 *   replacement is far longer than the match is the exception).
 *
 * The `..` operator is not covered: fengari concatenates inside its VM with no hook to reach,
 * so `s = s .. s` in a loop is bounded only by the call's time budget and by what the process
 * can allocate (a failed allocation becomes a Lua error, not a crash). `maxBytes` of
 * `Infinity` leaves the functions as they are.
 *
 * @example
 * ```ts
 * const L = lauxlib.luaL_newstate();
 * openLibraries(L, true);
 * limitStrings(L, 64 * 1024 * 1024);
 * // Lua: string.rep("x", 2^30) → "script.lua:1: string.rep: the result would be 1073741824 bytes, over the limit of 67108864 (maxStringBytes)"
 * ```
 */
export function limitStrings(L: LuaState, maxBytes: number): void {
  if (!(maxBytes < Infinity)) return;
  const tooLong = (S: LuaState, fn: string, bytes: number): never => {
    lauxlib.luaL_where(S, 1);
    lua.lua_pushstring(S, to_luastring(`${fn}: the result would be ${bytes} bytes, over the limit of ${maxBytes} (maxStringBytes)`));
    lua.lua_concat(S, 2);
    return lua.lua_error(S);
  };
  replace(L, 'string', 'rep', (rep) => (S) => {
    const s = lauxlib.luaL_checklstring(S, 1) as Uint8Array;
    const n = lauxlib.luaL_checkinteger(S, 2) as number;
    const sep = lauxlib.luaL_optlstring(S, 3, EMPTY) as Uint8Array;
    if (n > 0) {
      const bytes = s.length * n + sep.length * (n - 1);
      if (bytes > maxBytes) return tooLong(S, 'string.rep', bytes);
    }
    return rep(S);
  });
  replace(L, 'table', 'concat', (concat) => (S) => {
    if (lua.lua_type(S, 1) !== lua.LUA_TTABLE) return concat(S);
    const sep = lauxlib.luaL_optlstring(S, 2, EMPTY) as Uint8Array;
    const first = lauxlib.luaL_optinteger(S, 3, 1) as number;
    const last = lua.lua_isnoneornil(S, 4) ? (lauxlib.luaL_len(S, 1) as number) : (lauxlib.luaL_checkinteger(S, 4) as number);
    let bytes = 0;
    for (let i = first; i <= last; i++) {
      const t = lua.lua_geti(S, 1, i) as number;
      // Anything else is the original's error to raise ("invalid value (at index i)").
      if (t !== lua.LUA_TSTRING && t !== lua.LUA_TNUMBER) {
        lua.lua_pop(S, 1);
        break;
      }
      bytes += lua.lua_tolstring(S, -1)!.length + (i < last ? sep.length : 0);
      lua.lua_pop(S, 1);
      if (bytes > maxBytes) return tooLong(S, 'table.concat', bytes);
    }
    return concat(S);
  });
  for (const name of ['format', 'gsub']) {
    replace(L, 'string', name, (original) => (S) => {
      const base = lua.lua_gettop(S);
      const results = original(S);
      const bytes = lua.lua_rawlen(S, base + 1);
      if (bytes > maxBytes) {
        lua.lua_settop(S, base); // let the oversized result go
        return tooLong(S, `string.${name}`, bytes);
      }
      return results;
    });
  }
}

/** Replaces `lib.name` (a library function) by `wrap(original)`. */
function replace(L: LuaState, lib: string, name: string, wrap: (original: LuaCFunction) => LuaCFunction): void {
  lua.lua_getglobal(L, to_luastring(lib));
  lua.lua_getfield(L, -1, to_luastring(name));
  const original = lua.lua_tocfunction(L, -1) as LuaCFunction | null;
  lua.lua_pop(L, 1);
  if (original) {
    lua.lua_pushcfunction(L, wrap(original));
    lua.lua_setfield(L, -2, to_luastring(name));
  }
  lua.lua_pop(L, 1);
}
