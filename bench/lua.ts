/**
 * Lua benchmarks (issue 3), side by side in one run:
 * - per-event cost of a Lua `create_map` against the same map in JS, both as Lua-built
 *   networks (from → map → sink), so the difference is the Lua call and value conversion;
 * - the same with table payloads (conversion both ways dominates);
 * - the time to build a 1,000-node network from a Lua script, against building it in code;
 * - running the same network (from → forwarder → fanout → fanin → sink) built from Lua and
 *   built in code: the network runs in JS either way, so this should be ~1x.
 * Run: `npx ts-node --transpile-only bench/lua.ts` (BENCH_N sets the event count).
 */
import 'reflect-metadata';
import { Network } from '../lib/index';
import { LuaRuntime } from '../lib/lua/index';
import { compare, rate } from './harness';

const N = Number(process.env.BENCH_N ?? 200_000);
const NODES = 1000;
const quiet = { warn: () => undefined, error: () => undefined };

/** Runs a Lua-built from → map → sink network over `data`; `map` is given by `mapCall`. */
async function mapNetwork(data: unknown[], mapCall: string, exportsFn?: (rt: LuaRuntime) => void): Promise<number> {
  let count = 0;
  const net = new Network({ logger: quiet });
  const runtime = new LuaRuntime(net);
  runtime.export('data', () => undefined);
  exportsFn?.(runtime);
  // The source and sink are added from JS so only the map differs between the cases.
  net.add('numbers', net.registry.create('from', { items: data }));
  net.add('count', net.registry.create('sink', { fn: () => void count++ }));
  runtime.runString(`local tb = require('tributary')\n${mapCall}\ntb.link("numbers", "m")\ntb.link("m", "count")`, 'bench.lua');
  await net.start();
  await net.done();
  runtime.close();
  if (count !== data.length) throw new Error(`expected ${data.length} events, got ${count}`);
  return count;
}

function buildFromLua(): number {
  const net = new Network({ logger: quiet });
  const runtime = new LuaRuntime(net);
  runtime.runString(
    `local tb = require('tributary')
     tb.create_ticker("src", "1s")
     local prev = "src"
     for i = 1, ${NODES - 2} do
       local name = "f" .. i
       tb.create_forwarder(name)
       tb.link(prev, name)
       prev = name
     end
     tb.create_discarder("sink")
     tb.link(prev, "sink")`,
    'build.lua',
  );
  runtime.close();
  net.validate();
  return Object.keys(net.edges()).length;
}

function buildInCode(): number {
  const net = new Network({ logger: quiet });
  net.create('ticker', 'src', { interval: '1s' });
  let prev = 'src';
  for (let i = 1; i <= NODES - 2; i++) {
    const name = `f${i}`;
    net.create('forwarder', name);
    net.link(prev, name);
    prev = name;
  }
  net.create('discarder', 'sink');
  net.link(prev, 'sink');
  net.validate();
  return Object.keys(net.edges()).length;
}

const FAN = `tb.create_forwarder("f1") tb.create_forwarder("a") tb.create_forwarder("b")
  tb.link("numbers", "f1") tb.fanout("f1", "a", "b") tb.fanin("count", "a", "b")`;

/** The fan-out/fan-in network, wired by a Lua script or in code; returns the events counted. */
async function fanNetwork(data: number[], fromLua: boolean): Promise<number> {
  let count = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', net.registry.create('from', { items: data }));
  net.add('count', net.registry.create('sink', { fn: () => void count++ }));
  if (fromLua) {
    const runtime = new LuaRuntime(net);
    runtime.runString(`local tb = require('tributary')\n${FAN}`, 'fan.lua');
    runtime.close();
  } else {
    net.create('forwarder', 'f1').create('forwarder', 'a').create('forwarder', 'b');
    net.link('numbers', 'f1').fanout('f1', 'a', 'b').fanin('count', 'a', 'b');
  }
  await net.start();
  await net.done();
  if (count !== 2 * data.length) throw new Error(`expected ${2 * data.length} events, got ${count}`);
  return count;
}

async function main(): Promise<void> {
  const numbers = Array.from({ length: N }, (_, i) => i);
  const bets = Array.from({ length: N }, (_, i) => ({ customer: `c${i % 100}`, stake: i % 50, odds: 1.5 }));
  console.log(`Lua benchmarks: ${N.toLocaleString('en-US')} events, medians of 5 interleaved rounds\n`);

  const [jsNum, luaNum] = await compare([
    {
      name: 'JS map (n * 2)',
      run: () =>
        mapNetwork(numbers, 'tb.js_map("m")', (rt) =>
          rt.export('js_map', (name: string) => rt.network.create('map', name, { fn: (n: number) => n * 2 })),
        ),
    },
    { name: 'Lua map (n * 2)', run: () => mapNetwork(numbers, 'tb.create_map("m", function(n) return n * 2 end)') },
  ]);
  const [jsObj, luaObj] = await compare([
    {
      name: 'JS map (table payload)',
      run: () =>
        mapNetwork(bets, 'tb.js_map("m")', (rt) =>
          rt.export('js_map', (name: string) =>
            rt.network.create('map', name, {
              fn: (b: { customer: string; stake: number; odds: number }) => ({ customer: b.customer, liability: b.stake * (b.odds - 1) }),
            }),
          ),
        ),
    },
    {
      name: 'Lua map (table payload)',
      run: () =>
        mapNetwork(bets, 'tb.create_map("m", function(b) return { customer = b.customer, liability = b.stake * (b.odds - 1) } end)'),
    },
  ]);
  for (const [js, lua] of [
    [jsNum, luaNum],
    [jsObj, luaObj],
  ]) {
    console.log(`${js.name.padEnd(26)} ${js.medianMs.toFixed(1).padStart(8)} ms  ${rate(N, js.medianMs)}`);
    console.log(`${lua.name.padEnd(26)} ${lua.medianMs.toFixed(1).padStart(8)} ms  ${rate(N, lua.medianMs)}`);
    const perEventUs = ((lua.medianMs - js.medianMs) * 1000) / N;
    console.log(`  Lua/JS time ratio ${(lua.medianMs / js.medianMs).toFixed(2)}x, Lua adds ~${perEventUs.toFixed(2)} µs per event\n`);
  }

  const [code, lua] = await compare([
    { name: `build ${NODES} nodes in code`, run: buildInCode },
    { name: `build ${NODES} nodes from Lua`, run: buildFromLua },
  ]);
  console.log(`${code.name.padEnd(30)} ${code.medianMs.toFixed(1).padStart(8)} ms`);
  console.log(
    `${lua.name.padEnd(30)} ${lua.medianMs.toFixed(1).padStart(8)} ms  (${(lua.medianMs / code.medianMs).toFixed(2)}x code; includes creating and closing the VM)\n`,
  );

  const [codeRun, luaRun] = await compare([
    { name: 'fan network built in code', run: () => fanNetwork(numbers, false) },
    { name: 'fan network built from Lua', run: () => fanNetwork(numbers, true) },
  ]);
  console.log(`${codeRun.name.padEnd(30)} ${codeRun.medianMs.toFixed(1).padStart(8)} ms  ${rate(2 * N, codeRun.medianMs)}`);
  console.log(
    `${luaRun.name.padEnd(30)} ${luaRun.medianMs.toFixed(1).padStart(8)} ms  ${rate(2 * N, luaRun.medianMs)}  (${(luaRun.medianMs / codeRun.medianMs).toFixed(2)}x)`,
  );
}

void main();
