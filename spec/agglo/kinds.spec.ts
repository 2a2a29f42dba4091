import fs from 'node:fs';
import path from 'node:path';
import { Network } from 'tributary';
import { agglo } from '../../lib/agglo/index';
import { aggloPlugin } from '../../lib/agglo/plugin';
import { LuaRuntime } from '../../lib/lua/index';
import type { NodeKind } from '../../lib/nodes/registry';
import { builtinPlugins } from '../../lib/plugins';
import { memoryKvStore } from '../../lib/agglo/tee';

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

describe('agglo kinds in a YAML network file', () => {
  it('builds and runs: annotate, agglo_filter, transform, continue and tee with their protobuf-JSON options', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the loader, only for this spec
    const { loadNetworkText } = require('../../lib/declarative/load') as typeof import('../../lib/declarative/load');
    const store = `yamlOut-${Date.now()}`;
    const yaml = `
nodes:
  - { name: in, kind: from, options: { items: [{ user: { tier: gold }, debugX: 1, items: [3, 4] }, { user: { tier: free }, items: [] }] } }
  - name: mark
    kind: annotate
    options:
      annotations:
        - fieldKey: vip
          value: "yes"
          condition: { expression: { comparator: { lhs: { variable: { name: user.tier } }, rhs: { literal: gold }, op: Equal } } }
  - { name: strip, kind: agglo_filter, options: { regex: "^debug", keepMatched: false } }
  - name: total
    kind: transform
    options:
      forwardInputFields: true
      specs: [{ sourceField: items, targetField: total, transformation: { transformationType: TransformSum } }]
  - name: only_vip
    kind: continue
    options: { condition: { exists: { ops: [{ key: vip, op: Exists }] } } }
  - { name: keep, kind: tee, options: { external: { externalType: ExternalKVStore, connectionString: "mem:${store}" } } }
  - { name: out, kind: discarder }
edges:
  - { from: in, to: mark }
  - { from: mark, to: strip }
  - { from: strip, to: total }
  - { from: total, to: only_vip }
  - { from: only_vip, to: keep }
  - { from: keep, to: out }
`;
    const net = new Network({ plugins: builtinPlugins() });
    loadNetworkText(net, yaml, 'agglo.yaml', { env: {} });
    await net.start();
    await net.done();
    expect(net.snapshot().nodes.find((x) => x.name === 'only_vip')!.stats).toMatchObject({ in: 2, out: 1, dropped: 1 });
    const kept: unknown[] = [];
    for await (const [, v] of memoryKvStore(store).list('')) kept.push(v.value);
    expect(kept).toEqual([{ user: { tier: 'gold' }, items: [3, 4], vip: 'yes', total: 7 }]);
  });
});
