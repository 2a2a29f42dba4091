/**
 * Side: from → forwarder → fan-out to two forwarders → fan-in to a counting sink over N
 * integers, wired by a Lua script (create_* and link only) or in TypeScript: the network runs
 * in JS either way, so the ratio shows what wiring from Lua leaves behind (building is not
 * timed). Args: `lua|code N`.
 * Case: lua-wired.
 */
import 'reflect-metadata';
import { Network } from '../../lib/index';
import { LuaRuntime } from '../../lib/lua/index';
import { intArg, timed } from './report';

const fromLua = process.argv[2] === 'lua';
const N = intArg(1, 1_000_000);
const data = Array.from({ length: N }, (_, i) => i);
const quiet = { warn: () => undefined, error: () => undefined };

/** Builds the network (not timed: wiring is not what this case compares). */
function build(): { net: Network; count: () => number } {
  let count = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', net.registry.create('from', { items: data }));
  net.add('count', net.registry.create('sink', { fn: () => void count++ }));
  if (fromLua) {
    const runtime = new LuaRuntime(net);
    runtime.runString(
      `local tb = require('tributary')
tb.create_forwarder("f1") tb.create_forwarder("a") tb.create_forwarder("b")
tb.link("numbers", "f1") tb.fanout("f1", "a", "b") tb.fanin("count", "a", "b")`,
      'fan.lua',
    );
    runtime.close();
  } else {
    net.create('forwarder', 'f1').create('forwarder', 'a').create('forwarder', 'b');
    net.link('numbers', 'f1').fanout('f1', 'a', 'b').fanin('count', 'a', 'b');
  }
  return { net, count: () => count };
}

const built = build();

/** Runs the built network over the N integers: what the two sides compare. */
async function run(): Promise<number> {
  await built.net.start();
  await built.net.done();
  const count = built.count();
  if (count !== 2 * N) throw new Error(`expected ${2 * N} events, got ${count}`);
  return count;
}

void timed(run, (events) => ({ events }));
