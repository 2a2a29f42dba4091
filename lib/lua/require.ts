import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../errors';
import { LuaBridge } from './bridge';
import { luaText } from './strings';
import { lauxlib, lua, to_luastring, type LuaState } from './fengari';

/** How {@link installRequire} resolves module names. */
export interface RequireOptions {
  readonly bridge: LuaBridge;
  /** Sandboxed: only `modules` and files under `luaPath`; otherwise Lua's own `require` too. */
  readonly sandbox: boolean;
  /** Directories `require('a.b')` loads `a/b.lua` or `a/b/init.lua` from. */
  readonly luaPath: readonly string[];
  /** Built-in modules by name: each pushes its value (called at every `require`, so it can refresh it). */
  readonly modules: Readonly<Record<string, (L: LuaState) => void>>;
}

const TEXT_MODE = to_luastring('t');

/**
 * A script path as error messages show it: relative to the working directory when inside it.
 *
 * @example
 * ```ts
 * displayPath('/work/main/examples/scripted/network.lua'); // 'examples/scripted/network.lua' (cwd /work/main)
 * ```
 */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), path.resolve(file));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(file);
}

/**
 * Replaces the global `require` of a state: built-in `modules` (the `tributary` module),
 * then Lua files under the allowed `luaPath` (loaded once, text chunks only when
 * sandboxed), then — only outside the sandbox — Lua's own `require`. Anything else is a
 * Lua error saying what the sandbox allows.
 *
 * @example
 * ```ts
 * installRequire(L, { bridge, sandbox: true, luaPath: ['./lua'], modules: { tributary: pushModule } });
 * ```
 */
export function installRequire(L: LuaState, options: RequireOptions): void {
  const { bridge, sandbox, luaPath, modules } = options;
  lua.lua_createtable(L, 0, 4);
  const loadedRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  let originalRef: number | undefined;
  if (!sandbox) {
    lua.lua_getglobal(L, to_luastring('require'));
    originalRef = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX);
  }

  const load = (S: LuaState, name: string, file: string): number => {
    let source: Buffer | undefined;
    let failure: string | undefined;
    try {
      source = readFileSync(file);
    } catch (e) {
      failure = `cannot read module '${name}' from ${file}: ${errorMessage(e)}`;
    }
    if (failure !== undefined || !source) return bridge.raise(S, failure ?? '');
    if (
      lauxlib.luaL_loadbufferx(S, source, source.length, to_luastring('@' + displayPath(file)), sandbox ? TEXT_MODE : null) !== lua.LUA_OK
    ) {
      return lua.lua_error(S);
    }
    lua.lua_pushvalue(S, 1);
    lua.lua_call(S, 1, 1);
    if (lua.lua_type(S, -1) === lua.LUA_TNIL) {
      lua.lua_pop(S, 1);
      lua.lua_pushboolean(S, true);
    }
    lua.lua_rawgeti(S, lua.LUA_REGISTRYINDEX, loadedRef);
    lua.lua_pushvalue(S, -2);
    lua.lua_setfield(S, -2, to_luastring(name));
    lua.lua_pop(S, 1);
    return 1;
  };

  lua.lua_pushcfunction(L, (S) => {
    if (lua.lua_type(S, 1) !== lua.LUA_TSTRING) return bridge.raise(S, "bad argument #1 to 'require' (module name expected)");
    const name = luaText(lua.lua_tolstring(S, 1));
    const builtin = Object.prototype.hasOwnProperty.call(modules, name) ? modules[name] : undefined;
    if (builtin) {
      builtin(S);
      return 1;
    }
    lua.lua_rawgeti(S, lua.LUA_REGISTRYINDEX, loadedRef);
    if (lua.lua_getfield(S, -1, to_luastring(name)) !== lua.LUA_TNIL) return 1;
    lua.lua_pop(S, 2);
    const file = findModule(name, luaPath);
    if (file) return load(S, name, file);
    if (originalRef !== undefined) {
      lua.lua_rawgeti(S, lua.LUA_REGISTRYINDEX, originalRef);
      lua.lua_pushvalue(S, 1);
      lua.lua_call(S, 1, 1);
      return 1;
    }
    const allowed = Object.keys(modules)
      .map((m) => `'${m}'`)
      .join(', ');
    return bridge.raise(
      S,
      `require('${name}') is not allowed in the sandbox: scripts may require ${allowed}` +
        (luaPath.length ? ` and modules under ${luaPath.join(', ')}` : '') +
        ' (run trusted scripts with the sandbox off: --no-sandbox, or sandbox: false)',
    );
  });
  lua.lua_setglobal(L, to_luastring('require'));
}

/** The file `require(name)` loads from the allowed directories, if any; odd names never match. */
function findModule(name: string, luaPath: readonly string[]): string | undefined {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) return undefined;
  const rel = name.split('.').join(path.sep);
  for (const dir of luaPath) {
    for (const candidate of [path.join(dir, rel + '.lua'), path.join(dir, rel, 'init.lua')]) {
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}
