import { builtinPlugins } from '../../lib/plugins';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Network } from 'tributary';
import { connectorKinds } from 'tributary/connectors';
import { LuaRuntime } from '../../lib/lua/index';

describe('connectors from Lua (create_<kind> generated from the registry)', () => {
  it.each(connectorKinds.filter((k) => k.luaExample).map((k) => [k.name, k.luaExample!]))(
    '%s: the Lua example builds the node',
    (name, example) => {
      const net = new Network({ plugins: builtinPlugins() });
      const runtime = new LuaRuntime(net, { allowFiles: net.registry.get(name).io === 'files' });
      try {
        runtime.runString(`local tb = require('tributary')\n${example}`);
        const built = net.toJSON().nodes;
        expect(built).toHaveLength(1);
        expect(built[0].kind).toBe(name);
      } finally {
        runtime.close();
      }
    },
  );

  it('a bad option raises a Lua error naming the kind and option', () => {
    const net = new Network({ plugins: builtinPlugins() });
    const runtime = new LuaRuntime(net);
    try {
      expect(() =>
        runtime.runString(`local tb = require('tributary')\ntb.create_nats_source("in", { subject = "x", stream = "S", maxInFlight = 0 })`),
      ).toThrow(/nats_source.*option 'maxInFlight' must be at least 1/);
    } finally {
      runtime.close();
    }
  });

  it('a Lua-built file pipeline runs (files allowed by the host): CSV in, NDJSON out', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-lua-'));
    try {
      fs.writeFileSync(path.join(dir, 'bets.csv'), 'customer,stake\nc1,5\nc2,7\n');
      const net = new Network({ plugins: builtinPlugins() });
      const runtime = new LuaRuntime(net, { allowFiles: true });
      runtime.runString(`
        local tb = require('tributary')
        tb.create_file_source("bets", { path = ${JSON.stringify(path.join(dir, 'bets.csv'))}, cast = true })
        tb.create_file_sink("out", ${JSON.stringify(path.join(dir, 'out.ndjson'))})
        tb.link("bets", "out")
      `);
      await net.start();
      await net.done();
      runtime.close();
      expect(fs.readFileSync(path.join(dir, 'out.ndjson'), 'utf8')).toBe('{"customer":"c1","stake":5}\n{"customer":"c2","stake":7}\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
