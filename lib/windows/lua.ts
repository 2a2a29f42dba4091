import { TributaryError } from '../errors';
import type { LuaHost } from '../lua/host';
import { forwarder } from '../nodes/forwarder';
import type { Network } from '../network/network';
import { WINDOW_SERVICE } from './common';
import type { WindowStore } from './store';
import type { ColumnDeclaration } from './tables';

function str(v: unknown, fn: string, arg: string): string {
  if (typeof v !== 'string' || v === '') throw new TributaryError('BAD_OPTION', `${fn}: argument '${arg}' must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function opts(v: unknown, fn: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new TributaryError('BAD_OPTION', `${fn}: the last argument must be a table of options`);
  return v as Record<string, unknown>;
}

function storeOf(net: Network, fn: string): WindowStore {
  const store = net.service<WindowStore>(WINDOW_SERVICE);
  if (!store) {
    throw new TributaryError('STATE', `${fn}: the network has no window store (tributary run provides one; in code: net.provide(WINDOW_SERVICE, store))`);
  }
  return store;
}

/** Links a window to its `out` node, creating a forwarder of that name if there is none. */
function linkOut(net: Network, name: string, out: string): void {
  if (!net.exists(out)) net.add(out, forwarder());
  net.link(name, out);
}

/**
 * Adds the window functions that are not plain `create_<kind>` exports to a Lua host. Every
 * runtime calls this when it is created. (`create_window`, `create_filter`,
 * `create_query_window`, `create_time_window` and `create_count_window` come from the
 * registry.)
 *
 * - `query_window(name, sql)`: a `query_window` node.
 * - `sliding_window_time(name, out, sql, table, duration, time_column [, options])`: a
 *   `time_window` node `name` linked to `out` (a forwarder is created under that name unless
 *   a node of that name exists); link `out` onward. `options` takes the other `time_window`
 *   options (`every`, `time_unit`, `clear_columns`, …).
 * - `sliding_window_count(name, out, sql, table, count [, order_column [, options]])`: the
 *   same for a `count_window`.
 * - `declare_table(name [, columns [, options]])`: declares a table with typed columns
 *   (`{ stake = "number" }`), or a schemaless one when no columns are given.
 * - `window_driver()`: `"sqlite"` or `"mysql"`, to pick SQL for the database in use.
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
export function installWindowExports(host: LuaHost): void {
  const net = host.network;
  // Through the host when it can, so the runtime's sandbox checks and test substitutions apply.
  const create = (kind: string, name: string, options: Record<string, unknown>) =>
    host.create ? host.create(kind, name, options) : net.create(kind, name, options);
  host.export('query_window', (name: unknown, sql: unknown, options?: unknown) => {
    const n = str(name, 'query_window', 'name');
    create('query_window', n, { ...opts(options, 'query_window'), sql: str(sql, 'query_window', 'sql') });
    return true;
  });
  host.export(
    'sliding_window_time',
    (name: unknown, out: unknown, sql: unknown, table: unknown, duration: unknown, timeColumn: unknown, options?: unknown) => {
      const fn = 'sliding_window_time';
      const n = str(name, fn, 'name');
      const o = str(out, fn, 'out');
      create('time_window', n, {
        ...opts(options, fn),
        sql: str(sql, fn, 'sql'),
        table: str(table, fn, 'table'),
        duration,
        time_column: str(timeColumn, fn, 'time_column'),
      });
      linkOut(net, n, o);
      return true;
    },
  );
  host.export(
    'sliding_window_count',
    (name: unknown, out: unknown, sql: unknown, table: unknown, count: unknown, orderColumn?: unknown, options?: unknown) => {
      const fn = 'sliding_window_count';
      const n = str(name, fn, 'name');
      const o = str(out, fn, 'out');
      create('count_window', n, {
        ...opts(options, fn),
        sql: str(sql, fn, 'sql'),
        table: str(table, fn, 'table'),
        count,
        ...(orderColumn !== undefined && orderColumn !== null ? { order_column: str(orderColumn, fn, 'order_column') } : {}),
      });
      linkOut(net, n, o);
      return true;
    },
  );
  host.export('declare_table', (name: unknown, columns?: unknown, options?: unknown) => {
    const fn = 'declare_table';
    const n = str(name, fn, 'name');
    const o = opts(options, fn);
    const store = storeOf(net, fn);
    if (columns === undefined || columns === null) {
      store.declare({ name: n, schemaless: true });
    } else {
      const cols = opts(columns, fn) as Record<string, ColumnDeclaration>;
      const index = o.index === undefined ? undefined : Array.isArray(o.index) ? (o.index as string[]) : [str(o.index, fn, 'index')];
      store.declare({ name: n, columns: cols, ...(index ? { index } : {}) });
    }
    return true;
  });
  host.export('window_driver', () => storeOf(net, 'window_driver').driver);
}
