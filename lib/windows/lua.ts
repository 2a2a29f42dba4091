import { TributaryError } from '../errors';
import type { LuaHost } from '../lua/host';
import { luaOptionKey } from '../lua/module';
import type { LuaExport } from '../nodes/plugin';
import { WINDOW_SERVICE } from './common';
import type { WindowStore } from './store';
import { DeclaredTable } from './declared-table';
import { windowDialect } from './store';
import type { Dialect } from './sql';
import type { ColumnDeclaration, TableDeclaration } from './tables';
import { isPlainObject } from '../util/values';

/** What the window Lua functions need besides the script's host: the plugin's pending configuration. */
export interface WindowLuaConfig {
  /** The database URL the store will open (for `window_driver()` before it is open). */
  readonly url?: string;
  /** Tables `declare_table` adds while the store is not open yet. */
  readonly tables: TableDeclaration[];
}

function str(v: unknown, fn: string, arg: string): string {
  if (typeof v !== 'string' || v === '')
    throw new TributaryError('BAD_OPTION', `${fn}: argument '${arg}' must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function opts(v: unknown, fn: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (Array.isArray(v) && v.length === 0) return {}; // `{}` converts to []
  if (!isPlainObject(v)) throw new TributaryError('BAD_OPTION', `${fn}: the last argument must be a table of options`);
  return v;
}

/** The store a script's network was given, if any (`net.provide(WINDOW_SERVICE, store)`). */
function providedStore(host: LuaHost): WindowStore | undefined {
  return host.network.service<WindowStore>(WINDOW_SERVICE);
}

/**
 * Creates a node the way the script's `create_<kind>` would (the runtime's substitutions
 * apply); option keys in Lua's snake_case name the kind's camelCase options.
 */
function create(host: LuaHost, kind: string, name: string, raw: Record<string, unknown>): void {
  const k = host.network.registry.get(kind);
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) options[luaOptionKey(k, key)] = value;
  if (host.create) host.create(kind, name, options);
  else host.network.create(kind, name, options);
}

/** Links a window to its `out` node, creating a forwarder of that name if there is none. */
function linkOut(host: LuaHost, name: string, out: string): void {
  if (!host.network.exists(out)) create(host, 'forwarder', out, {});
  host.network.link(name, out);
}

/** The driver family a URL opens, without opening it. */
function driverOf(url: string | undefined): Dialect {
  return url === undefined ? 'sqlite' : windowDialect(url);
}

/**
 * The window functions of the `tributary` Lua module that are not plain `create_<kind>`
 * exports (those come from the window kinds):
 *
 * - `query_window(name, sql [, options])`: a `query_window` node.
 * - `sliding_window_time(name, out, sql, table, duration, time_column [, options])`: a
 *   `time_window` node `name` linked to `out` (a forwarder is created under that name unless
 *   a node of that name exists); link `out` onward. `options` takes the other `time_window`
 *   options (`every`, `time_unit`/`timeUnit`, …).
 * - `sliding_window_count(name, out, sql, table, count [, order_column [, options]])`: the
 *   same for a `count_window`.
 * - `declare_table(name [, columns [, options]])`: declares a table with typed columns
 *   (`{ stake = "number" }`), or a schemaless one when no columns are given.
 * - `window_driver()`: `"sqlite"`, `"mysql"` or `"postgres"`, to pick SQL for the database in use.
 *
 * @example
 * ```lua
 * local tb = require('tributary')
 * tb.sliding_window_time("customer_liability", "window_out", query, "example_bets", "10s", "create_time")
 * tb.create_filter("dedupe_liability", "10s")
 * tb.link("streaming_ingest", "customer_liability")
 * tb.link("window_out", "dedupe_liability")
 * ```
 */
export function windowLuaExports(config: WindowLuaConfig): Record<string, LuaExport> {
  return {
    query_window: (host) => (name: unknown, sql: unknown, options?: unknown) => {
      create(host, 'query_window', str(name, 'query_window', 'name'), {
        ...opts(options, 'query_window'),
        sql: str(sql, 'query_window', 'sql'),
      });
      return true;
    },
    sliding_window_time:
      (host) => (name: unknown, out: unknown, sql: unknown, table: unknown, duration: unknown, timeColumn: unknown, options?: unknown) => {
        const fn = 'sliding_window_time';
        const n = str(name, fn, 'name');
        const o = str(out, fn, 'out');
        create(host, 'time_window', n, {
          ...opts(options, fn),
          sql: str(sql, fn, 'sql'),
          table: str(table, fn, 'table'),
          duration,
          time_column: str(timeColumn, fn, 'time_column'),
        });
        linkOut(host, n, o);
        return true;
      },
    sliding_window_count:
      (host) => (name: unknown, out: unknown, sql: unknown, table: unknown, count: unknown, orderColumn?: unknown, options?: unknown) => {
        const fn = 'sliding_window_count';
        const n = str(name, fn, 'name');
        const o = str(out, fn, 'out');
        create(host, 'count_window', n, {
          ...opts(options, fn),
          sql: str(sql, fn, 'sql'),
          table: str(table, fn, 'table'),
          count,
          ...(orderColumn !== undefined && orderColumn !== null ? { order_column: str(orderColumn, fn, 'order_column') } : {}),
        });
        linkOut(host, n, o);
        return true;
      },
    declare_table: (host) => (name: unknown, columns?: unknown, options?: unknown) => {
      const fn = 'declare_table';
      const n = str(name, fn, 'name');
      const o = opts(options, fn);
      let declaration: TableDeclaration;
      if (columns === undefined || columns === null) {
        declaration = { name: n, schemaless: true };
      } else {
        const cols = opts(columns, fn) as Record<string, ColumnDeclaration>;
        const index = o.index === undefined ? undefined : Array.isArray(o.index) ? (o.index as string[]) : [str(o.index, fn, 'index')];
        declaration = { name: n, columns: cols, ...(index ? { index } : {}) };
      }
      const store = providedStore(host);
      if (store) {
        store.declare(declaration);
      } else {
        // Checked now, at the script's line, though the table is created when the store opens.
        new DeclaredTable(declaration, driverOf(config.url));
        if (config.tables.some((t) => t.name === n)) throw new TributaryError('BAD_OPTION', `${fn}: table '${n}' is already declared`);
        config.tables.push(declaration);
      }
      return true;
    },
    window_driver: (host) => () => providedStore(host)?.driver ?? driverOf(config.url),
  };
}
