/**
 * The Lua `create_*` exports of the event-time windows, generated from their declarations:
 * positional arguments, an options table in snake_case, Lua key and reduce functions, and a
 * whole Lua network with a late-events route, all on virtual time.
 */
import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { VirtualTime } from 'tributary/testing';
import { builtinPlugins } from '../../lib/plugins';
import { bet, res } from './support';

function setup() {
  const t = new VirtualTime();
  const network = new Network({ scheduler: t.scheduler, plugins: builtinPlugins() });
  const runtime = new LuaRuntime(network);
  return { t, network, runtime };
}

const TB = "local tb = require('tributary')\n";

describe('Lua create_* exports of the event-time windows', () => {
  it.each([
    ['create_tumbling_window', 'tb.create_tumbling_window("w", "10s", { key = "k", time_field = "t" })', 'tumbling_window'],
    ['create_hopping_window', 'tb.create_hopping_window("w", "10s", "5s", { key = "k" })', 'hopping_window'],
    ['create_sliding_window', 'tb.create_sliding_window("w", "1m", { aggregate = "sum", field = "v" })', 'sliding_window'],
    ['create_sliding_window by count', 'tb.create_sliding_window("w", { count = 5 })', 'sliding_window'],
    [
      'create_session_window',
      'tb.create_session_window("w", "30m", { key = "user", time_unit = "iso", time_field = "at" })',
      'session_window',
    ],
  ])('%s makes the node', (_, call, kind) => {
    const { network, runtime } = setup();
    runtime.runString(TB + call);
    expect(network.get('w')?.kind).toBe(kind);
    runtime.close();
  });

  it('a bad option is a Lua error naming the node and the option', () => {
    const { runtime } = setup();
    expect(() => runtime.runString(TB + 'tb.create_hopping_window("w", "5s", "10s")', 'net.lua')).toThrow(
      /option 'advance' \(10000ms\) must be at most 'size'/,
    );
    expect(() => runtime.runString(TB + 'tb.create_tumbling_window("w2", "5s", { allowed_latenes = "1s" })', 'net.lua')).toThrow(
      /net.lua:2: node 'w2': .*unknown option 'allowed_latenes'.*did you mean 'allowedLateness'/,
    );
    runtime.close();
  });

  it('a Lua network: keyed tumbling sum with a Lua key function, late events routed to their own sink', () => {
    const { t, network, runtime } = setup();
    const input = [bet(1000, 'a', 2), bet(4000, 'b', 5), bet(3000, 'a', 1), bet(12000, 'a', 7), bet(2000, 'b', 9)];
    network.add('bets', t.source('a 9ms b 9ms c 9ms d 9ms e 9ms |', Object.fromEntries(input.map((p, i) => ['abcde'[i], p]))));
    const out = t.sink();
    const late = t.sink();
    network.add('out', out.node);
    network.add('late', late.node);
    runtime.runString(
      TB +
        `tb.create_tumbling_window("per_10s", "10s", {
           key = function(bet) return string.upper(bet.k) end,
           aggregate = "sum", field = "v", time_field = "t", max_out_of_orderness = "1s" })
         tb.link("bets", "per_10s")
         tb.link("per_10s", "out")
         tb.route_errors("per_10s", "late")`,
      'net.lua',
    );
    t.run(network, '100ms');
    runtime.close();
    expect(out.frames).toEqual([
      { frame: 30, value: res('A', 0, 10000, 2, 3) },
      { frame: 30, value: res('B', 0, 10000, 1, 5) },
      { frame: 50, value: res('A', 10000, 20000, 1, 7) },
    ]);
    expect(late.frames).toEqual([
      {
        frame: 40,
        value: {
          error: expect.stringMatching(/^late event: event time 2000/),
          code: 'LATE_EVENT',
          node: 'per_10s',
          payload: bet(2000, 'b', 9),
        },
      },
    ]);
  });

  it('a Lua reduce receives the accumulator and the payload; a Lua merge joins sessions', () => {
    const { t, network, runtime } = setup();
    const input = [bet(1, 'x', 3), bet(9, 'x', 4), bet(5, 'x', 10)];
    network.add('bets', t.source('a 9ms b 9ms c 9ms |', { a: input[0], b: input[1], c: input[2] }));
    const out = t.sink();
    network.add('out', out.node);
    runtime.runString(
      TB +
        `tb.create_session_window("s", 5, {
           time_field = "t", max_out_of_orderness = 100,
           reduce = function(acc, bet) return { n = acc.n + 1, total = acc.total + bet.v } end,
           initial = { n = 0, total = 0 },
           merge = function(a, b) return { n = a.n + b.n, total = a.total + b.total } end })
         tb.link("bets", "s")
         tb.link("s", "out")`,
    );
    t.run(network, '100ms');
    runtime.close();
    expect(out.frames).toEqual([{ frame: 30, value: res(null, 1, 14, 3, { n: 3, total: 17 }) }]);
  });
});
