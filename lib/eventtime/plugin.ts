import { definePlugin } from '../nodes/plugin';
import { hoppingWindow } from './hopping-window';
import { sessionWindow } from './session-window';
import { slidingWindow } from './sliding-window';
import { tumblingWindow } from './tumbling-window';

/**
 * The in-memory event-time windows as a plugin: `tumbling_window`, `hopping_window`,
 * `sliding_window` and `session_window` (Lua `create_tumbling_window` …). No services: the
 * windows live in memory and are checkpointed through `ctx.registerState` when the network
 * takes checkpoints.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [eventTimePlugin] });
 * net.create('tumbling_window', 'per_minute', { size: '1m', key: 'customer', timeField: 'placed_at' });
 * ```
 */
export const eventTimePlugin = definePlugin({
  name: 'eventtime',
  kinds: [tumblingWindow, hoppingWindow, slidingWindow, sessionWindow],
});
