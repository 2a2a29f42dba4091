import { builtinPlugins } from '../lib/plugins';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry } from 'tributary';
import { renderCatalogue, luaSignature } from '../lib/nodes/catalogue';
import { catalogueRegistry } from '../scripts/docs-registry';

describe('docs/nodes.md', () => {
  it('is the catalogue generated from the registry (run `npm run docs` when this fails)', () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'nodes.md'), 'utf8');
    expect(committed).toBe(renderCatalogue(catalogueRegistry()));
  });

  it('shows every kind with its Lua signature', () => {
    const page = renderCatalogue(createRegistry({ plugins: builtinPlugins() }));
    for (const kind of createRegistry({ plugins: builtinPlugins() }).list()) {
      expect(page).toContain(`## ${kind.name}\n`);
      expect(page).toContain(luaSignature(kind));
    }
    expect(luaSignature(createRegistry({ plugins: builtinPlugins() }).get('ticker'))).toBe('create_ticker(name, interval)');
  });

  it("shows the example plugin's kind, marked with its plugin", () => {
    const page = readFileSync(join(__dirname, '..', 'docs', 'nodes.md'), 'utf8');
    expect(page).toContain('## sensor_threshold\n');
    expect(page).toContain('Lua: `create_sensor_threshold(name, field, limit)`\n\nPlugin: `sensors`');
    expect(page).toContain('## window\n');
    expect(page).toMatch(/## window\n[\s\S]*?Plugin: `windows`/);
  });
});
