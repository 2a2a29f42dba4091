import { builtinPlugins } from '../../lib/plugins';
import { Network, createRegistry } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

const kinds = createRegistry({ plugins: builtinPlugins() }).list();
const withExample = kinds.filter((k) => k.luaExample);

describe("every kind's Lua example (from the registry) runs through create_*", () => {
  it('most kinds have one', () => {
    expect(withExample.length).toBeGreaterThan(kinds.length / 2);
  });

  it.each(withExample.map((k) => [k.name, k.luaExample!]))('%s: %s', (name, example) => {
    const network = new Network({ plugins: builtinPlugins() });
    // Kinds that touch files need the host's permission in the sandbox (spec/lua/sandbox.spec.ts).
    const runtime = new LuaRuntime(network, { allowFiles: network.registry.get(name).io === 'files' });
    try {
      // Window examples refer to a `query` defined earlier in their script.
      runtime.runString(`local tb = require('tributary')\nlocal query = "select 1 as one"\n${example}`, `${name}.lua`);
    } finally {
      runtime.close();
    }
    const created = Object.keys(network.edges()).map((n) => network.get(n)!.kind);
    expect(created).toContain(name);
  });
});
