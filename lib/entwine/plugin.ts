import { definePlugin } from '../nodes/plugin';
import { entwine } from './node';

/**
 * Entwine as a plugin: the `entwine` node kind (signed, hash-chained substreams anchored to a
 * ticker). The ticker service and `entwine verify` are CLI commands (docs/entwine.md).
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [entwinePlugin] });
 * net.create('entwine', 'ledger', { store: './chains', substream: 'A', privateKey: './keys/a.pem' });
 * ```
 */
export const entwinePlugin = definePlugin({
  name: 'entwine',
  kinds: [entwine],
});
