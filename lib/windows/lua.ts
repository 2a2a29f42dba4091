import type { LuaHost } from '../lua/host';

/**
 * Adds the window functions that are not plain `create_<kind>` exports (`query_window`,
 * `sliding_window_time`) to a Lua host. Every runtime calls this when it is created.
 */
export function installWindowExports(host: LuaHost): void {
  void host; // filled in by the windows work (issue 4)
}
