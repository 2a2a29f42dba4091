import fs from 'node:fs';
import path from 'node:path';
import { Network } from 'tributary';
import { agglo } from '../../lib/agglo/index';
import { aggloPlugin } from '../../lib/agglo/plugin';
import { LuaRuntime } from '../../lib/lua/index';
import type { NodeKind } from '../../lib/nodes/registry';
import { builtinPlugins } from '../../lib/plugins';

const kinds = (aggloPlugin.kinds ?? []).map((k) => (typeof k === 'function' ? k.kind : k)) as NodeKind[];
const mine = kinds.filter((k) => !['aggregate', 'complete'].includes(k.name));

describe('agglo node kinds', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiler, only for this spec
  const ts = require('typescript') as typeof import('typescript');

  it.each(mine.map((k) => [k.name, k] as const))('%s: the TypeScript example builds one node of the kind', (name, kind) => {
    const js = ts.transpile(kind.example, { target: ts.ScriptTarget.ES2022 });
    const net = new Network({ plugins: [aggloPlugin] });
    new Function('net', 'agglo', js)(net, agglo);
    expect(net.toJSON().nodes.map((n) => n.kind)).toEqual([name]);
  });

  it.each(mine.map((k) => [k.name, k] as const))('%s: the Lua example builds one node of the kind', (name, kind) => {
    const net = new Network({ plugins: builtinPlugins() });
    const lua = new LuaRuntime(net, { allowFiles: kind.io === 'files' });
    try {
      lua.runString(`local tb = require('tributary')\n${kind.luaExample!}`);
    } finally {
      lua.close();
    }
    expect(net.toJSON().nodes.map((n) => n.kind)).toEqual([name]);
  });

  it('an empty Lua table is an empty message (condition = {}, additionalBody = {})', () => {
    const net = new Network({ plugins: builtinPlugins() });
    const lua = new LuaRuntime(net, { allowFiles: true });
    try {
      lua.runString(
        `local tb = require('tributary')\ntb.create_continue("c", { condition = {} })\ntb.create_tee_payload("t", { additionalBody = {}, condition = { exists = { ops = {} } } })`,
      );
    } finally {
      lua.close();
    }
    expect(net.toJSON().nodes.map((n) => n.kind)).toEqual(['continue', 'tee_payload']);
  });

  it('a sandboxed Lua script may not create file-writing kinds (tee, spawn) without --allow-files', () => {
    const net = new Network({ plugins: builtinPlugins() });
    const lua = new LuaRuntime(net);
    try {
      expect(() => lua.runString(`local tb = require('tributary')\n${agglo.tee.kind.luaExample!}`)).toThrow(/tee/);
    } finally {
      lua.close();
    }
  });

  it('every kind is offered by the built-in lazy plugin and documented in docs/agglo.md', () => {
    const lazy = builtinPlugins().find((p) => p.name === 'agglo')!;
    expect([...lazy.kinds].sort()).toEqual(kinds.map((k) => k.name).sort());
    const page = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'agglo.md'), 'utf8');
    for (const k of kinds) expect(page).toContain(`\`${k.name}\``);
  });
});
