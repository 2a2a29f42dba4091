import { TributaryError } from '../errors';
import { lauxlib, lua, lualib, to_luastring, type LuaState } from './fengari';
import { luaText } from './strings';

/** The standard libraries a sandboxed script gets (no io, debug, package; a trimmed os). */
const SAFE_LIBS: [string, keyof typeof lualib][] = [
  ['_G', 'luaopen_base'],
  ['coroutine', 'luaopen_coroutine'],
  ['table', 'luaopen_table'],
  ['string', 'luaopen_string'],
  ['math', 'luaopen_math'],
  ['utf8', 'luaopen_utf8'],
  ['os', 'luaopen_os'],
];

// Runs once per sandboxed state: take away file access and process control, and make
// `load` refuse binary chunks (hand-made bytecode can break out of the VM's checks).
const SANDBOX_PRELUDE = `
local _load, select, error = load, select, error
local function refuse(what)
  return function() error(what .. ' is not available in the sandbox (run trusted scripts with the sandbox off)', 2) end
end
dofile, loadfile = refuse('dofile'), refuse('loadfile')
load = function(chunk, name, mode, ...)
  if select('#', ...) > 0 then return _load(chunk, name, 't', ...) end
  return _load(chunk, name, 't')
end
string.dump = refuse('string.dump')
for _, k in ipairs({ 'execute', 'exit', 'remove', 'rename', 'tmpname', 'getenv', 'setlocale' }) do os[k] = refuse('os.' .. k) end
`;

/**
 * Opens the standard libraries on a fresh state. Sandboxed: base (without `dofile`,
 * `loadfile`, and with a text-only `load`), coroutine, table, string (without `dump`), math, utf8 and `os`
 * without `execute`, `exit`, `remove`, `rename`, `tmpname`, `getenv`, `setlocale`; no `io`,
 * `debug` or `package`. Not sandboxed: everything fengari has.
 *
 * @example
 * ```ts
 * const L = lauxlib.luaL_newstate();
 * openLibraries(L, true);
 * ```
 */
export function openLibraries(L: LuaState, sandbox: boolean): void {
  if (!sandbox) {
    lualib.luaL_openlibs(L);
    return;
  }
  for (const [name, open] of SAFE_LIBS) {
    lauxlib.luaL_requiref(L, to_luastring(name), lualib[open], 1);
    lua.lua_pop(L, 1);
  }
  const chunk = to_luastring(SANDBOX_PRELUDE);
  if (
    lauxlib.luaL_loadbufferx(L, chunk, chunk.length, to_luastring('=sandbox'), to_luastring('t')) !== lua.LUA_OK ||
    lua.lua_pcall(L, 0, 0, 0) !== lua.LUA_OK
  ) {
    const msg = luaText(lua.lua_tolstring(L, -1));
    lua.lua_pop(L, 1);
    throw new TributaryError('SCRIPT', `could not set up the Lua sandbox: ${msg}`);
  }
}

/**
 * SQL that reaches outside the window database: attaching or writing files, loading code
 * (SQLite, MySQL), and PostgreSQL's server-side file and program access.
 */
const UNSAFE_SQL =
  /\b(attach|detach|vacuum|load_extension|load_file|outfile|dumpfile|load\s+data|copy|pg_read_file|pg_read_binary_file|pg_ls_dir|pg_stat_file|lo_import|lo_export|dblink\w*|create\s+extension)\b/i;

/**
 * Refuses SQL a sandboxed script may not run: statements that attach, write or read files or
 * load extensions (`ATTACH DATABASE '/etc/x'`, `VACUUM INTO`, `SELECT … INTO OUTFILE`,
 * `LOAD_FILE()`, `LOAD DATA`; on PostgreSQL `COPY … TO/FROM` a file or program,
 * `pg_read_file()`, `lo_import()`, `dblink`, `CREATE EXTENSION`). Queries over the window
 * tables are unaffected.
 *
 * @example
 * ```ts
 * checkSandboxedSql("select * from bets", 'query_window'); // fine
 * checkSandboxedSql("attach database '/tmp/x' as x", 'query_window'); // throws
 * ```
 */
export function checkSandboxedSql(sql: string, where: string): void {
  const m = UNSAFE_SQL.exec(sql);
  if (m) {
    throw new TributaryError(
      'SCRIPT',
      `${where}: a sandboxed script may not use ${m[1].toUpperCase()} in SQL (it reaches files outside the window database); run trusted scripts with --no-sandbox`,
    );
  }
}
