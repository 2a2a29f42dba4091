import { nodes } from 'tributary';
import { windows } from 'tributary/windows';
import { count, drivers, persistentDrivers, scheduledSource, virtualNetwork } from './helpers';

const alert = (liability: number) => ({ customer_uuid: 'c1', game_id: 123456, liability });

describe.each(drivers)('filter (create_filter, SQL dedupe) on $name', (driver) => {
  it('drops a payload identical to one let through within the duration, and acks it', async () => {
    const { store } = await driver.open();
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const src = scheduledSource([
      { at: 1000, payload: alert(138) },
      { at: 2000, payload: alert(138) }, // duplicate
      { at: 2500, payload: alert(161) },
      { at: 10_999, payload: alert(138) }, // still within 10 s of the first
      { at: 11_000, payload: alert(138) }, // 10 s later: passes
    ]);
    net.add('in', src);
    net.add('dedupe_liability', windows.filter({ duration: '10s' }));
    net.add('printer', out.node);
    net.link('in', 'dedupe_liability');
    net.link('dedupe_liability', 'printer');
    const report = await clock.run(net, '12s');
    expect(out.frames).toEqual([
      { frame: 1000, value: alert(138) },
      { frame: 2500, value: alert(161) },
      { frame: 11_000, value: alert(138) },
    ]);
    expect(src.log.acked.sort()).toEqual(['0', '1', '2', '3', '4']); // dropped duplicates are acked too
    expect(report.stats.dedupe_liability).toMatchObject({ in: 5, out: 3, dropped: 2 });
  });

  it('deletes rows older than the duration on a timer of the same period', async () => {
    const { store } = await driver.open();
    const { net, clock } = virtualNetwork(store);
    net.add('in', scheduledSource([500, 1500, 2500, 12_500].map((at, i) => ({ at, payload: { n: i } }))));
    net.add('f', windows.filter({ duration: '10s' }));
    net.add('end', nodes.discarder());
    net.link('in', 'f');
    net.link('f', 'end');
    await clock.start(net);
    await clock.advanceTo(10_000);
    expect(await count(store, 'tributary_filter')).toBe(3); // clean-up at 10 s: nothing older than 0 s
    await clock.advanceTo(20_000);
    expect(await count(store, 'tributary_filter')).toBe(1); // clean-up at 20 s: rows before 10 s gone
    await clock.stop(net);
  });

  it('keeps separate memories per filter node', async () => {
    const { store } = await driver.open();
    const { t, net, clock } = virtualNetwork(store);
    const a = t.sink();
    const b = t.sink();
    net.add(
      'in',
      scheduledSource([
        { at: 1, payload: 'x' },
        { at: 2, payload: 'x' },
      ]),
    );
    net.add('f1', windows.filter({ duration: '1s' }));
    net.add('f2', windows.filter({ duration: '1s' }));
    net.add('a', a.node);
    net.add('b', b.node);
    net.fanout('in', 'f1', 'f2');
    net.link('f1', 'a');
    net.link('f2', 'b');
    await clock.run(net, '10ms');
    expect(a.frames).toEqual([{ frame: 1, value: 'x' }]);
    expect(b.frames).toEqual([{ frame: 1, value: 'x' }]);
  });
});

describe.each(persistentDrivers)('filter across a restart on $name', (driver) => {
  it('still suppresses a duplicate after the process restarts on the same database', async () => {
    const db = await driver.open();
    const first = virtualNetwork(db.store);
    const out1 = first.t.sink();
    first.t.scheduler.frame = 1_000_000; // the first run's clock
    first.net.add('in', scheduledSource([{ at: 1_001_000, payload: alert(138) }]));
    first.net.add('dedupe_liability', windows.filter({ duration: '10s' }));
    first.net.add('printer', out1.node);
    first.net.link('in', 'dedupe_liability');
    first.net.link('dedupe_liability', 'printer');
    await first.clock.run(first.net, '2s');
    expect(out1.frames).toHaveLength(1);
    await db.store.close();

    // "Restart": a new store and network on the same database, 5 s later.
    const store2 = await db.reopen()!;
    const second = virtualNetwork(store2);
    const out2 = second.t.sink();
    second.t.scheduler.frame = 1_006_000;
    second.net.add(
      'in',
      scheduledSource([
        { at: 1_006_500, payload: alert(138) }, // 5.5 s after it was let through: suppressed
        { at: 1_006_600, payload: alert(161) }, // new: passes
        { at: 1_011_500, payload: alert(138) }, // 10.5 s after: passes again
      ]),
    );
    second.net.add('dedupe_liability', windows.filter({ duration: '10s' }));
    second.net.add('printer', out2.node);
    second.net.link('in', 'dedupe_liability');
    second.net.link('dedupe_liability', 'printer');
    await second.clock.run(second.net, '6s');
    expect(out2.frames).toEqual([
      { frame: 1_006_600, value: alert(161) },
      { frame: 1_011_500, value: alert(138) },
    ]);
  });
});
