/**
 * Side: from → map → counting sink over N payloads, wired by a Lua script; the map is a Lua
 * function or the same function in JS, so the difference is the Lua call. Args:
 * `lua|vm|js number|table N` (`vm`: the Lua function with compiling off, on the VM).
 * Cases: lua-map-number, lua-map-table (and their -vm variants).
 */
import 'reflect-metadata';
import { Network } from '../../lib/index';
import { LuaRuntime } from '../../lib/lua/index';
import { intArg, timed } from './report';

const mode = process.argv[2] ?? 'lua';
const shape = process.argv[3] ?? 'number';
const N = intArg(2, 1_000_000);
const data: unknown[] =
  shape === 'table'
    ? Array.from({ length: N }, (_, i) => ({ customer: `c${i % 100}`, stake: i % 50, odds: 1.5 }))
    : Array.from({ length: N }, (_, i) => i);
const LUA = {
  number: 'function(n) return n * 2 end',
  table: 'function(b) return { customer = b.customer, liability = b.stake * (b.odds - 1) } end',
};
const JS = {
  number: (n: number) => n * 2,
  table: (b: { customer: string; stake: number; odds: number }) => ({ customer: b.customer, liability: b.stake * (b.odds - 1) }),
};
const quiet = { warn: () => undefined, error: () => undefined };

async function run(): Promise<{ count: number; compiled: number }> {
  let count = 0;
  const net = new Network({ logger: quiet });
  const runtime = new LuaRuntime(net, { compile: mode !== 'vm' });
  runtime.export('js_map', (name: string) => net.create('map', name, { fn: JS[shape as keyof typeof JS] }));
  net.add('numbers', net.registry.create('from', { items: data }));
  net.add('count', net.registry.create('sink', { fn: () => void count++ }));
  const create = mode === 'js' ? 'tb.js_map("m")' : `tb.create_map("m", ${LUA[shape as keyof typeof LUA]})`;
  runtime.runString(`local tb = require('tributary')\n${create}\ntb.link("numbers", "m")\ntb.link("m", "count")`, 'bench.lua');
  await net.start();
  await net.done();
  const compiled = runtime.compiledFunctions().functions;
  runtime.close();
  if (count !== N) throw new Error(`expected ${N} events, got ${count}`);
  return { count, compiled };
}

void timed(run, (r) => ({ events: r.count, compiled: r.compiled }));
