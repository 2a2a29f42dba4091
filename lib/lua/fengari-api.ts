/**
 * Typings for fengari 0.1.5 (it ships none), as a module of our own so that published
 * declarations never refer to an untyped package. The API mirrors Lua 5.3's C API
 * (`lua.h`, `lauxlib.h`, `lualib.h`); see https://www.lua.org/manual/5.3/manual.html#4.
 * Only what Tributary uses is typed precisely; the rest is reachable as `any`.
 */

/** A Lua state (`lua_State*`). Opaque. */
export type LuaState = { readonly __luaState: unique symbol };
/** A JS function usable as a Lua C function: reads its arguments from the stack, returns how many results it pushed. */
export type LuaCFunction = (L: LuaState) => number;

export interface LuaDebug {
  source: Uint8Array | null;
  short_src: Uint8Array;
  currentline: number;
  linedefined: number;
  lastlinedefined: number;
  nparams: number;
  isvararg: boolean | number;
  what: Uint8Array | null;
}

/** The fengari module as `require('fengari')` returns it. */
export interface FengariModule {
  lua: {
    LUA_OK: number;
    LUA_ERRSYNTAX: number;
    LUA_ERRRUN: number;
    LUA_MULTRET: number;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_GLOBALS: number;
    LUA_TNONE: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TFUNCTION: number;
    LUA_TUSERDATA: number;
    LUA_TTHREAD: number;
    LUA_MASKCOUNT: number;
    lua_Debug: new () => LuaDebug;
    lua_absindex(L: LuaState, idx: number): number;
    lua_atnativeerror(L: LuaState, fn: LuaCFunction): LuaCFunction | undefined;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_close(L: LuaState): void;
    lua_concat(L: LuaState, n: number): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_error(L: LuaState): never;
    lua_getfield(L: LuaState, idx: number, k: Uint8Array): number;
    lua_getglobal(L: LuaState, name: Uint8Array): number;
    lua_getinfo(L: LuaState, what: Uint8Array, ar: LuaDebug): number;
    lua_getstack(L: LuaState, level: number, ar: LuaDebug): number;
    lua_gettop(L: LuaState): number;
    lua_insert(L: LuaState, idx: number): void;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_next(L: LuaState, idx: number): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean | number): void;
    lua_pushcclosure(L: LuaState, fn: LuaCFunction, n: number): void;
    lua_pushcfunction(L: LuaState, fn: LuaCFunction): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushlightuserdata(L: LuaState, p: unknown): void;
    lua_pushnil(L: LuaState): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: Uint8Array): Uint8Array;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_remove(L: LuaState, idx: number): void;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_setfield(L: LuaState, idx: number, k: Uint8Array): void;
    lua_setglobal(L: LuaState, name: Uint8Array): void;
    lua_setmetatable(L: LuaState, idx: number): number;
    lua_sethook(L: LuaState, fn: ((L: LuaState, ar: LuaDebug) => void) | null, mask: number, count: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tointeger(L: LuaState, idx: number): number;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_tolstring(L: LuaState, idx: number): Uint8Array | null;
    lua_topointer(L: LuaState, idx: number): unknown;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_type(L: LuaState, idx: number): number;
    lua_typename(L: LuaState, t: number): Uint8Array;
    lua_upvalueindex(i: number): number;
    lua_getupvalue(L: LuaState, funcindex: number, n: number): Uint8Array | null;
    lua_rawequal(L: LuaState, a: number, b: number): boolean;
    lua_tocfunction(L: LuaState, idx: number): LuaCFunction | null;
    [name: string]: any;
  };

  lauxlib: {
    LUA_LOADED_TABLE: Uint8Array;
    luaL_checkstack(L: LuaState, n: number, msg: Uint8Array | null): void;
    luaL_loadbufferx(L: LuaState, buff: Uint8Array, size: number, name: Uint8Array, mode: Uint8Array | null): number;
    luaL_newstate(): LuaState;
    luaL_ref(L: LuaState, t: number): number;
    luaL_requiref(L: LuaState, name: Uint8Array, fn: LuaCFunction, global: number): void;
    luaL_tolstring(L: LuaState, idx: number): Uint8Array;
    luaL_traceback(L: LuaState, L1: LuaState, msg: Uint8Array | null, level: number): void;
    luaL_unref(L: LuaState, t: number, ref: number): void;
    luaL_where(L: LuaState, level: number): void;
    [name: string]: any;
  };

  lualib: {
    luaL_openlibs(L: LuaState): void;
    luaopen_base: LuaCFunction;
    luaopen_coroutine: LuaCFunction;
    luaopen_table: LuaCFunction;
    luaopen_string: LuaCFunction;
    luaopen_math: LuaCFunction;
    luaopen_utf8: LuaCFunction;
    luaopen_os: LuaCFunction;
    [name: string]: any;
  };

  luaconf: { LUA_IDSIZE: number; [name: string]: any };

  to_luastring(s: string, cache?: boolean): Uint8Array;
  to_jsstring(s: Uint8Array, from?: number, to?: number, replacement_char?: boolean): string;
  FENGARI_VERSION: string;
}
