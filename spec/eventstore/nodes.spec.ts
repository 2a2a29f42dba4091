import { Network, nodes, type Logger } from 'tributary';
import { EVENTSTORE_SERVICE, eventstorePlugin, eventstoreSink, eventstoreSource, type StoredEvent } from '../../lib/eventstore';
import { builtinPlugins } from '../../lib/plugins';
import { LuaRuntime } from '../../lib/lua/index';
import { drivers } from './helpers';

function quietLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, warn: (m) => void lines.push(m), error: (m) => void lines.push(m) };
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setImmediate(r));
}

describe.each(drivers)('eventstore nodes on $name', (driver) => {
  it('eventstore_source (reliable) delivers recorded events; acks move the pointer; a restart resumes', async () => {
    const t = await driver.open();
    await t.store.addEvents([1, 2, 3].map((i) => ({ type: 'N', data: { i } })));
    const seen: StoredEvent[] = [];
    const net = new Network({ plugins: [eventstorePlugin], logger: quietLogger() });
    net.add('in', eventstoreSource({ url: t.url, prefix: t.prefix, component: 'net', pollInterval: '20ms' }));
    net.add('out', nodes.sink({ fn: (e: StoredEvent) => void seen.push(e) }));
    net.link('in', 'out');
    await net.start();
    await until(() => seen.length === 3);
    expect(seen.map((e) => e.data)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    await until(async () => (await t.store.consumers()).some((c) => c.component === 'net' && c.lastId === seen[2].id));
    await net.stop();
    await t.store.addEvent('N', { i: 4 });
    const again: unknown[] = [];
    const net2 = new Network({ plugins: builtinPlugins(), logger: quietLogger() });
    net2.provide(EVENTSTORE_SERVICE, t.store);
    net2.create('eventstore_source', 'in', { component: 'net', payload: 'data', pollInterval: '20ms' });
    net2.add('out', nodes.sink({ fn: (d: unknown) => void again.push(d) }));
    net2.link('in', 'out');
    await net2.start();
    await until(() => again.length === 1);
    expect(again).toEqual([{ i: 4 }]);
    await net2.stop();
  });

  it('a failing downstream nacks: the event comes again and the pointer does not pass it', async () => {
    const t = await driver.open();
    await t.store.addEvents([1, 2].map((i) => ({ type: 'N', data: i })));
    let failures = 1;
    const done: unknown[] = [];
    const net = new Network({ plugins: [eventstorePlugin], logger: quietLogger() });
    net.provide(EVENTSTORE_SERVICE, t.store);
    net.add('in', eventstoreSource({ component: 'flaky', payload: 'data', retryDelay: 0, pollInterval: '20ms' }));
    net.add(
      'out',
      nodes.sink({
        fn: (d: number) => {
          if (d === 2 && failures-- > 0) throw new Error('not now');
          done.push(d);
        },
      }),
    );
    net.link('in', 'out');
    await net.start();
    await until(() => done.length === 2);
    expect(done).toEqual([1, 2]);
    await net.stop();
  });

  it('eventstore_sink appends payloads (type from option or payload), acks after commit, nacks bad ones', async () => {
    const t = await driver.open();
    const logger = quietLogger();
    const net = new Network({ plugins: [eventstorePlugin], logger });
    net.provide(EVENTSTORE_SERVICE, t.store);
    net.add('a', nodes.from({ items: [{ n: 1 }, { n: 2 }] }));
    net.add('b', nodes.from({ items: [{ type: 'ALERT', data: { x: 1 } }, { type: 'bad', data: {} }, { nope: true }] }));
    net.add('typed', eventstoreSink({ type: 'TYPED' }));
    net.add('free', eventstoreSink({}));
    net.link('a', 'typed');
    net.link('b', 'free');
    await net.start();
    const report = await net.done();
    const events = await t.store.poll('LIVE');
    expect(events.map((e) => [e.type, e.data]).sort()).toEqual([
      ['ALERT', { x: 1 }],
      ['TYPED', { n: 1 }],
      ['TYPED', { n: 2 }],
    ]);
    expect(report.stats.free.errors).toBe(2);
    expect(logger.lines.join('\n')).toMatch(/node 'free'.*must match/);
    expect(logger.lines.join('\n')).toMatch(/node 'free'.*payload must be \{ type, data \}/);
  });

  it('eventstore_source in live mode delivers only new events with their headers', async () => {
    const t = await driver.open();
    await t.store.addEvent('OLD', 0);
    const seen: { type: string; headers: Record<string, string> }[] = [];
    const net = new Network({ plugins: [eventstorePlugin], logger: quietLogger() });
    net.provide(EVENTSTORE_SERVICE, t.store);
    net.add('in', eventstoreSource({ mode: 'live', pollInterval: '20ms' }));
    net.add('tap', nodes.tap({ fn: (e: StoredEvent, ev) => void seen.push({ type: e.type, headers: { ...ev.meta.headers } }) }));
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.link('in', 'tap').link('tap', 'out');
    await net.start();
    // The live source starts at the end of the stream: keep adding until one arrives.
    for (let i = 1; seen.length === 0; i++) {
      await t.store.addEvent('NEW', i);
      await t.store.poll('LIVE', { lastId: '0', limit: 1 }); // a round trip, no sleep
    }
    await net.stop();
    expect(seen.every((e) => e.type === 'NEW')).toBe(true);
    expect(seen[0].headers).toMatchObject({ 'eventstore-type': 'NEW', 'eventstore-id': expect.stringMatching(/^\d+$/) });
  });

  it('eventstore_sink nacks an error event and records nothing for it', async () => {
    const t = await driver.open();
    const logger = quietLogger();
    const net = new Network({ plugins: [eventstorePlugin], logger });
    net.provide(EVENTSTORE_SERVICE, t.store);
    net.add('a', nodes.from({ items: [1, 2, 3] }));
    net.add(
      'check',
      nodes.map({
        fn: (n: number) => {
          if (n === 2) throw new Error('two is bad');
          return n;
        },
      }),
    );
    net.add('out', eventstoreSink({ type: 'NUM' }));
    net.link('a', 'check').link('check', 'out');
    await net.start();
    const report = await net.done();
    expect((await t.store.poll('LIVE')).map((e) => e.data)).toEqual([1, 3]);
    expect(report.stats.out.in).toBe(3);
    expect(logger.lines.join('\n')).toMatch(/two is bad/);
  });

  it('refuses bad options naming the node kind and option', () => {
    expect(() => eventstoreSink({ type: 'lower' })).toThrow(/eventstore_sink.*'type'.*\^\[A-Z_\]/);
    expect(() => eventstoreSource({ want: ['x'] })).toThrow(/eventstore_source.*'want'/);
    expect(() => eventstoreSource({ component: 'LIVE' })).toThrow(/LIVE is reserved/);
    expect(() => eventstoreSource({ limit: 5000 } as never)).toThrow(/limit/);
  });

  it('Lua scripts create both kinds', async () => {
    const t = await driver.open();
    await t.store.addEvent('N', { i: 1 });
    const net = new Network({ plugins: builtinPlugins(), logger: quietLogger() });
    const lua = new LuaRuntime(net);
    lua.runString(`
      local tb = require("tributary")
      tb.create_eventstore_source("in", "${t.url}", "lua", { prefix = "${t.prefix}", pollInterval = "20ms" })
      tb.create_eventstore_sink("copy", "${t.url}", "COPIED", { prefix = "${t.prefix}" })
    `);
    net.link('in', 'copy');
    await net.start();
    await until(async () => (await t.store.poll('LIVE')).some((e) => e.type === 'COPIED'));
    const copied = (await t.store.poll('LIVE')).find((e) => e.type === 'COPIED')!;
    expect(copied.data).toMatchObject({ type: 'N', data: { i: 1 } });
    await net.stop();
  });
});
