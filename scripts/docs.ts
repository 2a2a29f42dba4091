/**
 * Regenerates the generated documentation: `npm run docs`. Each area renders its own page
 * from the registry; specs fail when a committed page is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from '../lib/nodes/index';
import { renderCatalogue } from '../lib/nodes/catalogue';
import { writeLuaDocs } from '../lib/lua/docs';
import { renderConnectorDocs } from '../lib/connectors/docs';
import { connectorKinds } from '../lib/connectors/index';
import { builtinPlugins } from '../lib/plugins';
import { catalogueRegistry } from './docs-registry';

const root = join(__dirname, '..');
const registry = createRegistry({ plugins: builtinPlugins() });
writeFileSync(join(root, 'docs/nodes.md'), renderCatalogue(catalogueRegistry()));
console.log('wrote docs/nodes.md');
writeLuaDocs(join(root, 'docs/lua.md'), registry);
console.log('wrote docs/lua.md');
writeFileSync(join(root, 'docs/connectors.md'), renderConnectorDocs(connectorKinds));
console.log('wrote docs/connectors.md');
