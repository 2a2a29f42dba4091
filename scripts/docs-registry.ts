/**
 * The registry the generated docs are made from: the core, every built-in plugin, and the
 * example third-party plugin (examples/plugin), so the catalogue shows how a plugin's kind
 * appears. Shared by `npm run docs` and the specs that check the committed pages.
 */
import { sensorsPlugin } from '../examples/plugin';
import { createRegistry } from '../lib/nodes/index';
import type { Registry } from '../lib/nodes/registry';
import { builtinPlugins } from '../lib/plugins';

/**
 * The catalogue's registry (docs/nodes.md).
 *
 * @example
 * ```ts
 * renderCatalogue(catalogueRegistry());
 * ```
 */
export function catalogueRegistry(): Registry {
  return createRegistry({ plugins: [...builtinPlugins(), sensorsPlugin] });
}
