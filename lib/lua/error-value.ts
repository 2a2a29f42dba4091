import { errorMessage } from '../errors';
import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import { luaText } from './strings';

/** Longest rendering of an error value; past it the text ends in `…`. */
const MAX_TEXT = 300;
const MAX_DEPTH = 3;
const MAX_ENTRIES = 20;
const TOSTRING = to_luastring('__tostring');
const callToString: LuaCFunction = (S) => {
  lauxlib.luaL_tolstring(S, 1);
  return 1;
};
const LINE_INFO = to_luastring('Sl');
const plainPcall = (S: LuaState, nargs: number, nresults: number) => lua.lua_pcall(S, nargs, nresults, 0);

/**
 * `file:line:` of the innermost Lua function on the stack of a failed call (the line that
 * called `error`), or '' when no Lua function is running.
 */
function errorPlace(L: LuaState): string {
  const ar = new lua.lua_Debug();
  for (let level = 1; lua.lua_getstack(L, level, ar) === 1; level++) {
    lua.lua_getinfo(L, LINE_INFO, ar);
    if (ar.currentline > 0) return `${luaText(ar.short_src)}:${ar.currentline}: `;
  }
  return '';
}

/**
 * The message handler of every protected call into Lua: an error value that is not a string
 * or number (`error({ reason = … })`, `error()`) becomes text prefixed with the file and line
 * of the `error` call, which Lua itself adds to string messages only. Strings and numbers pass
 * unchanged (`error("x", 0)` keeps asking for no position).
 *
 * @example
 * ```ts
 * lua.lua_pushcfunction(T, locateError); // kept at index 1 of a call thread
 * lua.lua_pcall(T, 1, 1, 1);
 * ```
 */
export const locateError: LuaCFunction = (S) => {
  const t = lua.lua_type(S, 1);
  if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER || t === lua.LUA_TLIGHTUSERDATA) return 1;
  const text = errorValueText(S, 1, plainPcall);
  lua.lua_pushstring(S, to_luastring(errorPlace(S) + text));
  return 1;
};

/**
 * `lua_pcall` with {@link locateError} as the message handler: on failure the value on top
 * names the line of a table or nil error too. `call` is the pcall to use (a time-budgeted
 * one, say); it gets the handler's stack index.
 *
 * @example
 * ```ts
 * // stack: function, arg
 * if (pcallLocated(L, 1, 1, lua.lua_pcall) !== lua.LUA_OK) throw new LuaError(luaText(lua.lua_tolstring(L, -1)));
 * ```
 */
export function pcallLocated(
  L: LuaState,
  nargs: number,
  nresults: number,
  call: (L: LuaState, nargs: number, nresults: number, msgh: number) => number,
): number {
  const base = lua.lua_gettop(L) - nargs;
  lua.lua_pushcfunction(L, locateError);
  lua.lua_insert(L, base);
  try {
    return call(L, nargs, nresults, base);
  } finally {
    lua.lua_remove(L, base);
  }
}

/**
 * What a Lua error value says, as text: a string or number as it is; `nil` as `error called
 * with nil`; a table with a `__tostring` metamethod as what that returns; any other table as
 * short JSON-like text (`{"reason":"too big","value":99}`, at most 3 levels and 20 entries
 * each, cycles cut short); a boolean, function or coroutine as `error called with …`.
 * `pcall` runs the `__tostring` metamethod protected (and under the call's time budget); a
 * metamethod that fails falls back to the JSON-like text.
 *
 * @example
 * ```ts
 * // after lua_pcall failed with error({ reason = "too big" }):
 * errorValueText(L, -1, (S, n, r) => lua.lua_pcall(S, n, r, 0)); // '{"reason":"too big"}'
 * ```
 */
export function errorValueText(L: LuaState, idx: number, pcall: (L: LuaState, nargs: number, nresults: number) => number): string {
  const t = lua.lua_type(L, idx);
  switch (t) {
    case lua.LUA_TSTRING:
    case lua.LUA_TNUMBER:
      return luaText(lua.lua_tolstring(L, idx));
    case lua.LUA_TLIGHTUSERDATA:
      return errorMessage(lua.lua_touserdata(L, idx));
    case lua.LUA_TNIL:
    case lua.LUA_TNONE:
      return 'error called with nil';
    case lua.LUA_TBOOLEAN:
      return `error called with ${lua.lua_toboolean(L, idx) ? 'true' : 'false'}`;
    case lua.LUA_TTABLE:
    case lua.LUA_TUSERDATA: {
      const own = toStringText(L, idx, pcall);
      if (own !== undefined) return clip(own);
      if (t === lua.LUA_TTABLE) return clip(render(L, lua.lua_absindex(L, idx), 0));
      return 'error called with a userdata value';
    }
    default:
      return `error called with a ${luaText(lua.lua_typename(L, t))}`;
  }
}

/** What the value's `__tostring` returns, or undefined when it has none or it fails. */
function toStringText(L: LuaState, idx: number, pcall: (L: LuaState, nargs: number, nresults: number) => number): string | undefined {
  if (lauxlib.luaL_getmetafield(L, idx, TOSTRING) === lua.LUA_TNIL) return undefined;
  lua.lua_pop(L, 1);
  const value = lua.lua_absindex(L, idx);
  const top = lua.lua_gettop(L);
  try {
    if (!lua.lua_checkstack(L, 2)) return undefined;
    lua.lua_pushcfunction(L, callToString);
    lua.lua_pushvalue(L, value);
    if (pcall(L, 1, 1) !== lua.LUA_OK || lua.lua_type(L, -1) !== lua.LUA_TSTRING) return undefined;
    return luaText(lua.lua_tolstring(L, -1));
  } finally {
    lua.lua_settop(L, top);
  }
}

/** JSON-like text of the value at the absolute index `idx`, without calling any Lua code. */
function render(L: LuaState, idx: number, depth: number): string {
  switch (lua.lua_type(L, idx)) {
    case lua.LUA_TNIL:
      return 'null';
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, idx) ? 'true' : 'false';
    case lua.LUA_TNUMBER:
      return String(lua.lua_isinteger(L, idx) ? lua.lua_tointeger(L, idx) : lua.lua_tonumber(L, idx));
    case lua.LUA_TSTRING:
      return JSON.stringify(luaText(lua.lua_tolstring(L, idx)));
    case lua.LUA_TTABLE:
      break;
    default:
      return `"<${luaText(lua.lua_typename(L, lua.lua_type(L, idx)))}>"`;
  }
  if (depth >= MAX_DEPTH || !lua.lua_checkstack(L, 3)) return '{…}';
  const n = lua.lua_rawlen(L, idx);
  if (n > 0 && isSequence(L, idx, n)) {
    const items: string[] = [];
    for (let i = 1; i <= Math.min(n, MAX_ENTRIES); i++) {
      lua.lua_rawgeti(L, idx, i);
      items.push(render(L, lua.lua_absindex(L, -1), depth + 1));
      lua.lua_pop(L, 1);
    }
    if (n > MAX_ENTRIES) items.push('…');
    return `[${items.join(',')}]`;
  }
  const items: string[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    if (items.length === MAX_ENTRIES) {
      lua.lua_pop(L, 2);
      items.push('…');
      break;
    }
    const key = lua.lua_absindex(L, -2);
    const keyText = render(L, key, depth);
    const quoted = lua.lua_type(L, key) === lua.LUA_TSTRING || keyText.startsWith('"') ? keyText : JSON.stringify(keyText);
    items.push(`${quoted}:${render(L, lua.lua_absindex(L, -1), depth + 1)}`);
    lua.lua_pop(L, 1);
  }
  return `{${items.join(',')}}`;
}

/** True when the table's keys are exactly the integers 1..n. */
function isSequence(L: LuaState, idx: number, n: number): boolean {
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, idx) !== 0) {
    lua.lua_pop(L, 1);
    const k = lua.lua_isinteger(L, -1) ? lua.lua_tointeger(L, -1) : 0;
    if (k < 1 || k > n || ++count > n) {
      lua.lua_pop(L, 1);
      return false;
    }
  }
  return count === n;
}

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}
