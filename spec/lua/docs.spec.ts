import { builtinPlugins } from '../../lib/plugins';
import { readFileSync } from 'node:fs';
import { createRegistry, defineNode, nodes } from 'tributary';
import { LUA_REFERENCE_BEGIN, LUA_REFERENCE_END, renderLuaReference, replaceGeneratedSection } from '../../lib/lua/docs';

const REGENERATE = '`npm run docs`';

describe('docs/lua.md', () => {
  it(`has the create_* reference generated from the registry (run ${REGENERATE} when this fails)`, () => {
    const page = readFileSync('docs/lua.md', 'utf8');
    expect(page).toBe(replaceGeneratedSection(page, renderLuaReference(createRegistry({ plugins: builtinPlugins() }))));
  });

  it('documents every exported function of the module table', () => {
    const page = readFileSync('docs/lua.md', 'utf8');
    for (const fn of ['link', 'fanout', 'fanin', 'node_exists', 'route_errors']) expect(page).toContain(`| \`${fn}\` |`);
  });
});

describe('renderLuaReference', () => {
  it('lists every kind with its Lua signature, role, options and Lua example', () => {
    const md = renderLuaReference(createRegistry({ plugins: builtinPlugins() }));
    for (const kind of createRegistry({ plugins: builtinPlugins() }).list()) expect(md).toContain(`### \`create_${kind.name}(`);
    expect(md).toContain('### `create_ticker(name, interval)`');
    expect(md).toContain('*source* — Emits an event every period');
    expect(md).toContain('| `interval` (argument 2) | duration | required | period between ticks, e.g. "500ms" |');
    expect(md).toContain('```lua\ntb.create_ticker("ticker_500ms", "500ms")\n```');
  });

  it('follows the registry: a host kind appears once registered', () => {
    const kind = defineNode({
      name: 'host_only',
      role: 'pipeline',
      summary: 'A host-defined kind.',
      options: {},
      positional: [],
      example: '',
      build: () => nodes.forwarder(),
    });
    expect(renderLuaReference(createRegistry({ plugins: builtinPlugins() }))).not.toContain('create_host_only');
    expect(renderLuaReference(createRegistry({ plugins: builtinPlugins() }).register(kind))).toContain(
      '### `create_host_only(name)`\n\n*pipeline* — A host-defined kind.',
    );
  });

  it('replaceGeneratedSection keeps the markers and what is around them, and needs both markers', () => {
    const doc = `intro\n${LUA_REFERENCE_BEGIN}\nold\n${LUA_REFERENCE_END}\noutro\n`;
    expect(replaceGeneratedSection(doc, 'new\n')).toBe(`intro\n${LUA_REFERENCE_BEGIN}\nnew\n${LUA_REFERENCE_END}\noutro\n`);
    expect(() => replaceGeneratedSection('no markers', 'x')).toThrow(/lacks the markers/);
  });
});
