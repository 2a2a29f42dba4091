import { Network, nodes } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWindowStore, WINDOW_SERVICE, windowsPlugin, type WindowStore } from 'tributary/windows';
import { entities } from '../../examples/advanced/entities';
import { bet, drivers, scheduledSource, virtualNetwork } from './helpers';

const LIABILITY = `
select customer_uuid, count(*) as n from example_bets
where create_time >= :window_start group by customer_uuid`;

describe.each(drivers)('window functions of the Lua module on $name', (driver) => {
  it('sliding_window_time(name, out, sql, table, duration, time_column) makes the window and its out node', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('streaming_ingest', scheduledSource([500, 1500, 2500].map((at, i) => ({ at, payload: bet(`b${i}`) }))));
    net.add('printer', out.node);
    const runtime = new LuaRuntime(net);
    runtime.runString(
      `local tb = require("tributary")
       tb.sliding_window_time("customer_liability", "window_out", [[${LIABILITY}]], "example_bets", "2s", "create_time")
       tb.link("streaming_ingest", "customer_liability")
       tb.link("window_out", "printer")`,
      'network.lua',
    );
    expect(net.get('customer_liability')?.kind).toBe('time_window');
    expect(net.get('window_out')?.kind).toBe('forwarder');
    expect(net.edges().customer_liability).toEqual(['window_out']);
    await clock.run(net, '4s');
    runtime.close();
    expect(out.frames).toEqual([
      { frame: 2000, value: { customer_uuid: 'c1', n: 2 } },
      { frame: 4000, value: { customer_uuid: 'c1', n: 1 } },
    ]);
  });

  it('links to an existing out node and takes the other options in a trailing table', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('streaming_ingest', scheduledSource([{ at: 500, payload: bet('b1') }]));
    net.add('window_out', out.node);
    const runtime = new LuaRuntime(net);
    runtime.runString(
      `local tb = require("tributary")
       tb.sliding_window_time("w", "window_out", [[${LIABILITY}]], "example_bets", "10s", "create_time", { every = "1s" })
       tb.link("streaming_ingest", "w")`,
    );
    await clock.run(net, '2s');
    runtime.close();
    expect(out.frames.map((f) => f.frame)).toEqual([1000, 2000]);
  });

  it('declare_table, create_window, query_window, sliding_window_count and window_driver', async () => {
    const { store } = await driver.open();
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const last = t.sink();
    net.add('ingest', scheduledSource([1, 2, 3].map((n) => ({ at: n * 10, payload: { user: 'u1', amount: n } }))));
    net.add('raw_printer', out.node);
    net.add('last_printer', last.node);
    const runtime = new LuaRuntime(net);
    const driverName = runtime.runString(
      `local tb = require("tributary")
       tb.declare_table("raw_events")
       tb.declare_table("payments", { user = "string", amount = "number" })
       tb.create_window("raw", "raw_events")
       tb.query_window("total", "select count(*) as n from raw_events")
       tb.sliding_window_count("last2", "last2_out", "select sum(amount) as s from payments", "payments", 2)
       tb.fanout("ingest", "raw", "last2")
       tb.link("raw", "total")
       tb.link("total", "raw_printer")
       tb.link("last2_out", "last_printer")
       return tb.window_driver()`,
    );
    expect(driverName).toBe(store.driver);
    await clock.run(net, '100ms');
    runtime.close();
    expect(out.frames.map((f) => f.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(last.frames.map((f) => f.value)).toEqual([{ s: 1 }, { s: 3 }, { s: 5 }]);
  });

  it('create_filter(name, duration) and create_window(name) take the original arguments', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add(
      'streaming_ingest',
      scheduledSource([
        { at: 1, payload: bet('b1', { time: 1 }) },
        { at: 2, payload: bet('b2', { time: 1 }) },
      ]),
    );
    net.add('printer', out.node);
    const runtime = new LuaRuntime(net);
    runtime.runString(
      `local tb = require("tributary")
       tb.create_window("bets_window")
       tb.query_window("latest", "select customer_uuid from example_bets order by uuid desc limit 1")
       tb.create_filter("dedupe", "10s")
       tb.link("streaming_ingest", "bets_window")
       tb.link("bets_window", "latest")
       tb.link("latest", "dedupe")
       tb.link("dedupe", "printer")`,
    );
    await clock.run(net, '10ms');
    runtime.close();
    expect(out.frames).toEqual([{ frame: 1, value: { customer_uuid: 'c1' } }]);
  });

  it('raises Lua errors naming the problem', async () => {
    const { store } = await driver.open({ entities });
    const { net } = virtualNetwork(store);
    const runtime = new LuaRuntime(net);
    expect(() =>
      runtime.runString('require("tributary").sliding_window_time("w", "o", "select 1", "example_bets", "soon", "create_time")', 'bad.lua'),
    ).toThrow(/bad\.lua:1: .*node 'w'.*duration/);
    expect(() => runtime.runString('require("tributary").query_window("q")', 'bad.lua')).toThrow(
      /bad\.lua:1: query_window: argument 'sql' must be a non-empty string/,
    );
    expect(() => runtime.runString('require("tributary").declare_table("t", { a = "float" })', 'bad.lua')).toThrow(
      /bad\.lua:1: table 't': column 'a' has unknown type 'float'/,
    );
    runtime.close();
  });
});

describe('window functions without a window store', () => {
  it('a network without the windows plugin has no window functions: calling one is a Lua error at the line', () => {
    const net = new Network();
    net.add('x', nodes.forwarder());
    const runtime = new LuaRuntime(net);
    expect(() => runtime.runString('require("tributary").declare_table("t")', 's.lua')).toThrow(
      /s\.lua:1: attempt to call a nil value \(field 'declare_table'\)/,
    );
    runtime.close();
  });

  it('with the plugin but no store yet, declare_table is checked at once and the table created when the network opens the store', async () => {
    const url = `sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'tb-lazy-')), 'w.db')}`;
    const net = new Network({ plugins: [windowsPlugin({ url })], logger: { warn: () => undefined, error: () => undefined } });
    const runtime = new LuaRuntime(net);
    expect(() => runtime.runString('require("tributary").declare_table("bad", { a = "float" })', 'bad.lua')).toThrow(
      /bad\.lua:1: table 'bad': column 'a' has unknown type 'float'/,
    );
    runtime.runString(
      [
        'local tb = require("tributary")',
        'tb.declare_table("readings", { v = "number" })',
        'tb.create_window("w", "readings")',
        'tb.create_discarder("d")',
        'tb.link("w", "d")',
      ].join('\n'),
      'ok.lua',
    );
    net.add('in', nodes.from({ items: [{ v: 1 }, { v: 2 }] }));
    net.link('in', 'w');
    expect(net.service(WINDOW_SERVICE)).toBeUndefined();
    await net.start();
    expect(net.service<WindowStore>(WINDOW_SERVICE)!.table('readings', 'spec').name).toBe('readings');
    await net.done(); // the network closes the store it opened
    runtime.close();
    const reopened = await openWindowStore({ url, tables: [{ name: 'readings', columns: { v: 'number' } }] });
    try {
      expect(await reopened.query('select v from readings order by v')).toEqual([{ v: 1 }, { v: 2 }]);
    } finally {
      await reopened.close();
    }
  });
});
