import { definePlugin, type Plugin } from '../nodes/plugin';
import { WINDOW_SERVICE } from './common';
import { aggregateWindow } from './aggregate-window';
import { countWindow } from './count-window';
import { filter } from './filter';
import { windowLuaExports } from './lua';
import { queryWindow } from './query-window';
import { openWindowStore, type WindowStore, type WindowStoreOptions } from './store';
import type { TableDeclaration } from './tables';
import { timeWindow } from './time-window';
import { window } from './window';

/** What the windows plugin opens its store with (see {@link WindowStoreOptions}). */
export interface WindowsPluginOptions extends Omit<WindowStoreOptions, 'tables' | 'entities'> {
  /** TypeORM entities; host modules may push more before the network starts. */
  entities?: unknown[];
  /** Declared tables; Lua's `declare_table` adds to them. */
  tables?: TableDeclaration[];
}

/**
 * The SQL windows as a plugin: the kinds `window`, `query_window`, `time_window`,
 * `count_window`, `filter` and `aggregate_window`, the Lua functions `query_window`, `sliding_window_time`,
 * `sliding_window_count`, `declare_table` and `window_driver`, and the window store as a
 * service that a network opens when it starts with a window node (default
 * `sqlite::memory:`) and closes after the drain. `options` is read when the store opens, so
 * entities and tables added to it until then count.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [windowsPlugin({ url: 'sqlite:./tb.db', entities: [Bet, Selection] })] });
 * net.add('bets_window', windows.window({ table: 'example_bets' }));
 * ```
 */
export function windowsPlugin(options: WindowsPluginOptions = {}): Plugin {
  const tables = (options.tables ??= []);
  return definePlugin({
    name: 'windows',
    kinds: [window, queryWindow, timeWindow, countWindow, filter, aggregateWindow],
    luaExports: windowLuaExports({
      get url() {
        return options.url;
      },
      tables,
    }),
    services: {
      [WINDOW_SERVICE]: {
        open: () => openWindowStore({ ...options, url: options.url ?? 'sqlite::memory:', entities: options.entities ?? [], tables }),
        close: (store: WindowStore) => store.close(),
      },
    },
  });
}
