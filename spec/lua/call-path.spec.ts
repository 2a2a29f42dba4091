import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

const TB = "local tb = require('tributary')\n";
const quiet = { warn: () => undefined, error: () => undefined };

/** Runs `items` through the script's node `m` and returns what reached the sink (errors as `error: …`). */
async function through(items: unknown[], script: string, setup?: (rt: LuaRuntime) => void): Promise<unknown[]> {
  const net = new Network({ logger: quiet });
  const runtime = new LuaRuntime(net);
  setup?.(runtime);
  const out: unknown[] = [];
  net.add('in', net.registry.create('from', { items }));
  net.add('out', net.registry.create('sink', { fn: (p: unknown) => void out.push(p) }));
  net.add('dead', net.registry.create('sink', { fn: (letter: { error: string }) => void out.push(`error: ${letter.error}`) }));
  runtime.runString(`${TB}${script}\ntb.link("in", "m") tb.link("m", "out") tb.route_errors("m", "dead")`, 'path.lua');
  await net.start();
  await net.done();
  runtime.close();
  return out;
}

describe('calling node functions (the call thread and the string caches)', () => {
  it('round-trips more distinct strings than the string cache holds, exactly and in order', async () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({ id: `customer-${i}`, ccy: i % 2 ? 'EUR' : 'GBP' }));
    const out = await through(items, 'tb.create_map("m", function(b) return { id = b.id .. "!", ccy = b.ccy, again = b.id } end)');
    expect(out).toEqual(items.map((b) => ({ id: `${b.id}!`, ccy: b.ccy, again: b.id })));
  });

  it('keeps strings that are not UTF-8 as bytes, also when they repeat', async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x41]);
    const out = await through([bytes, bytes], 'tb.create_map("m", function(s) return s end)');
    expect(out).toEqual([Uint8Array.from(bytes), Uint8Array.from(bytes)]);
  });

  it('a node function calling an export that calls back into Lua gets the right results and error lines', async () => {
    const out = await through(
      [1, 2, 3],
      `local function inner(n)
  if n == 2 then error("two is bad") end
  return n * 10
end
tb.create_map("m", function(n) return tb.apply(inner, n) + 1 end)`,
      (rt) => rt.export('apply', (f: (n: number) => number, n: number) => f(n)),
    );
    expect(out).toEqual([11, expect.stringMatching(/^error: path\.lua:3: two is bad$/), 31]);
  });

  it('a failed call leaves the next call a clean stack: errors and results alternate correctly', async () => {
    const out = await through([1, 2, 3, 4], 'tb.create_map("m", function(n) if n % 2 == 0 then error({ n = n }) end return n end)');
    expect(out).toEqual([1, 'error: path.lua:2: {"n":2}', 3, 'error: path.lua:2: {"n":4}']);
  });
});
