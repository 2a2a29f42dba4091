import type { FengariModule } from './fengari-api';

/**
 * fengari, loaded with a source-name limit wide enough for real paths: by default Lua cuts
 * chunk names to 60 characters (`...ted/network.lua:3:`), which would hide the script file
 * in error messages. fengari reads its configuration from `FENGARICONF` once, when first
 * loaded; if something else loaded it earlier, names are merely shortened.
 */
function load(): FengariModule {
  const previous = process.env.FENGARICONF;
  if (previous === undefined) process.env.FENGARICONF = JSON.stringify({ LUA_IDSIZE: 1023 });
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('fengari') as FengariModule;
  } finally {
    if (previous === undefined) delete process.env.FENGARICONF;
  }
}

export const fengari = load();
export const { lua, lauxlib, lualib, to_luastring } = fengari;
export type { LuaState, LuaCFunction } from './fengari-api';
