import { definePlugin } from '../nodes/plugin';
import { stateful } from './stateful';

/**
 * Keyed state as a plugin: the `stateful` node kind (Lua `create_stateful`). Its state is
 * checkpointed by the network's `state` option (see docs/state.md).
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [statePlugin], state: { store: await openStateStore('sqlite:./state.db') } });
 * net.create('stateful', 'sums', { key: 'customer', fn: (sum = 0, bet) => ({ state: sum + bet.stake }) });
 * ```
 */
export const statePlugin = definePlugin({
  name: 'state',
  kinds: [stateful],
});
