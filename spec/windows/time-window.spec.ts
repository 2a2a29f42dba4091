import { entities } from '../../examples/advanced/entities';
import { nodes } from 'tributary';
import { windows } from 'tributary/windows';
import { bet, count, drivers, scheduledSource, virtualNetwork } from './helpers';

const PER_CUSTOMER = `
  select customer_uuid, count(*) as n, sum(stake) as total
  from example_bets
  where create_time >= :window_start and create_time <= :now
  group by customer_uuid
  order by customer_uuid`;

describe.each(drivers)('time_window (sliding_window_time) on $name', (driver) => {
  it('runs the query on the scheduler timer, not on arrival, and emits one event per row', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const src = scheduledSource([
      { at: 1000, payload: bet('b1', { customer: 'c1', stake: 5 }) },
      { at: 2000, payload: bet('b2', { customer: 'c1', stake: 5 }) },
      { at: 3000, payload: bet('b3', { customer: 'c2', stake: 100 }) },
      { at: 12000, payload: bet('b4', { customer: 'c1', stake: 7 }) },
    ]);
    const out = t.sink();
    net.add('in', src);
    net.add(
      'liability',
      windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', every: '5s', timeColumn: 'create_time' }),
    );
    net.add('window_out', nodes.forwarder());
    net.add('printer', out.node);
    net.link('in', 'liability');
    net.link('liability', 'window_out');
    net.link('window_out', 'printer');
    await clock.run(net, '20s');

    expect(out.frames).toEqual([
      { frame: 5000, value: { customer_uuid: 'c1', n: 2, total: 10 } },
      { frame: 5000, value: { customer_uuid: 'c2', n: 1, total: 100 } },
      { frame: 10000, value: { customer_uuid: 'c1', n: 2, total: 10 } },
      { frame: 10000, value: { customer_uuid: 'c2', n: 1, total: 100 } },
      // 15 s: the window starts at 5 s; only b4 (12 s) is in it. 20 s: still b4.
      { frame: 15000, value: { customer_uuid: 'c1', n: 1, total: 7 } },
      { frame: 20000, value: { customer_uuid: 'c1', n: 1, total: 7 } },
    ]);
    // the time column was filled from the event time (Unix seconds), and inputs were acked after commit
    expect(src.log.acked).toEqual(['0', '1', '2', '3']);
    expect(await store.query('select uuid, create_time from example_bets')).toEqual([{ uuid: 'b4', create_time: 12 }]);
  });

  it('deletes expired rows with a cut-off computed at every run (regression: the original computed it once and its table grew forever)', async () => {
    const { store } = await driver.open({ entities });
    const { net, clock } = virtualNetwork(store);
    // one bet per second for a minute
    net.add('in', scheduledSource(Array.from({ length: 60 }, (_, i) => ({ at: i * 1000 + 500, payload: bet(`b${i}`) }))));
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', timeColumn: 'create_time' }));
    net.add('end', nodes.discarder());
    net.link('in', 'w');
    net.link('w', 'end');
    await clock.start(net);
    const sizes: number[] = [];
    for (let run = 1; run <= 6; run++) {
      await clock.advanceTo(run * 10_000);
      sizes.push(await count(store, 'example_bets'));
    }
    await clock.stop(net);
    // After the run at T the rows from T-10 s on remain: ten each time (the first run keeps all ten).
    expect(sizes).toEqual([10, 10, 10, 10, 10, 10]);
    expect(await count(store, 'example_selections')).toBe(10); // children go with their bets
  });

  it('runs the expiry delete only when some row is older than the window (the oldest time, through the index)', async () => {
    const { store } = await driver.open({ entities });
    const { net, clock } = virtualNetwork(store);
    // A bet each second for 3 s, then nothing: rows can expire only at the runs at 3, 4 and 5 s.
    net.add('in', scheduledSource([0, 1, 2].map((s) => ({ at: s * 1000 + 500, payload: bet(`b${s}`) }))));
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '2s', every: '1s', timeColumn: 'create_time' }));
    net.add('end', nodes.discarder());
    net.link('in', 'w');
    net.link('w', 'end');
    await clock.run(net, '10s');
    const gauges = net.snapshot().nodes.find((n) => n.name === 'w')!.gauges;
    expect(gauges.ticks.value).toBe(10);
    expect(gauges.expiries.value).toBe(3); // at 3 s (b0), 4 s (b1), 5 s (b2); the other runs skip the delete
    expect(gauges.rows_expired.value).toBe(3);
    expect(await count(store, 'example_bets')).toBe(0);
    expect(await count(store, 'example_selections')).toBe(0);
  });

  it('still deletes expired rows when its query fails (regression: a failing query made the table grow forever)', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', scheduledSource(Array.from({ length: 30 }, (_, i) => ({ at: i * 1000 + 500, payload: bet(`b${i}`) }))));
    net.add(
      'w',
      windows.timeWindow({ sql: 'select nope from example_bets', table: 'example_bets', duration: '10s', timeColumn: 'create_time' }),
    );
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.start(net);
    const sizes: number[] = [];
    for (let run = 1; run <= 3; run++) {
      await clock.advanceTo(run * 10_000);
      sizes.push(await count(store, 'example_bets'));
    }
    await clock.stop(net);
    expect(sizes).toEqual([10, 10, 10]);
    // every failed run was reported as an error event naming the node
    const errors = out.events.filter((e) => e.error).map((e) => e.error!.node);
    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(errors)).toEqual(new Set(['w']));
  });

  it('binds :now and :window_start in milliseconds for a millisecond time column (declared table)', async () => {
    const { store } = await driver.open({
      tables: [{ name: 'clicks', columns: { user_id: 'string', at_ms: 'integer' }, index: ['at_ms'] }],
    });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', scheduledSource([100, 250, 900, 1300].map((at) => ({ at, payload: { user_id: 'u1' } }))));
    net.add(
      'w',
      windows.timeWindow({
        sql: 'select user_id, count(*) as clicks, min(at_ms) as first_ms from clicks where at_ms >= :window_start group by user_id',
        table: 'clicks',
        duration: '1s',
        every: '500ms',
        timeColumn: 'at_ms',
        timeUnit: 'ms',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.run(net, '2s');
    expect(out.frames).toEqual([
      { frame: 500, value: { user_id: 'u1', clicks: 2, first_ms: 100 } },
      { frame: 1000, value: { user_id: 'u1', clicks: 3, first_ms: 100 } },
      { frame: 1500, value: { user_id: 'u1', clicks: 2, first_ms: 900 } },
      { frame: 2000, value: { user_id: 'u1', clicks: 1, first_ms: 1300 } },
    ]);
  });

  it('clears the rows behind an output once it is acked downstream, so the alert must build up again', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const alert = `
      select customer_uuid, count(*) as n from example_bets
      where create_time >= :window_start group by customer_uuid having count(*) >= 3`;
    net.add(
      'in',
      scheduledSource(
        [500, 1500, 2500, 3500, 4500, 5500].map((at, i) => ({
          at,
          payload: bet(`b${i}`, { customer: 'c1', time: Math.floor(at / 1000) }),
        })),
      ),
    );
    net.add(
      'w',
      windows.timeWindow({
        sql: alert,
        table: 'example_bets',
        duration: '10s',
        every: '1s',
        timeColumn: 'create_time',
        clearColumns: ['customer_uuid'],
      }),
    );
    net.add('alerts', out.node);
    net.link('in', 'w');
    net.link('w', 'alerts');
    await clock.run(net, '7s');
    // Without clearing it would fire every second from 3 s on.
    expect(out.frames).toEqual([
      { frame: 3000, value: { customer_uuid: 'c1', n: 3 } },
      { frame: 6000, value: { customer_uuid: 'c1', n: 3 } },
    ]);
    expect(await count(store, 'example_bets')).toBe(0);
    expect(await count(store, 'example_selections')).toBe(0);
  });

  it('keeps firing when outputs are not acked (nacked alerts clear nothing)', async () => {
    const { store } = await driver.open({ entities });
    const { net, clock } = virtualNetwork(store);
    const seen: number[] = [];
    net.add('in', scheduledSource([500, 1500].map((at, i) => ({ at, payload: bet(`b${i}`) }))));
    net.add(
      'w',
      windows.timeWindow({
        sql: PER_CUSTOMER,
        table: 'example_bets',
        duration: '10s',
        every: '1s',
        timeColumn: 'create_time',
        clearColumns: ['customer_uuid'],
      }),
    );
    net.add(
      'failing_alert',
      nodes.sink({
        fn: () => {
          seen.push(1);
          throw new Error('slack is down');
        },
      }),
    );
    net.link('in', 'w');
    net.link('w', 'failing_alert');
    await clock.run(net, '4s');
    expect(seen).toHaveLength(4);
    expect(await count(store, 'example_bets')).toBe(2);
  });

  it('turns a failing query into an error event at the output and keeps running', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', t.source('|'));
    net.add(
      'w',
      windows.timeWindow({
        sql: 'select no_such_column from example_bets',
        table: 'example_bets',
        duration: '1s',
        timeColumn: 'create_time',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    // the input completes at once, so the window completes too: no timer outlives the drain
    const report = await clock.run(net, '3s');
    expect(out.frames).toEqual([]);
    expect(report.timedOut).toBe(false);

    const second = virtualNetwork(store);
    const out2 = second.t.sink();
    second.net.add('in', second.t.source('5s |'));
    second.net.add(
      'w',
      windows.timeWindow({
        sql: 'select no_such_column from example_bets',
        table: 'example_bets',
        duration: '1s',
        timeColumn: 'create_time',
      }),
    );
    second.net.add('out', out2.node);
    second.net.link('in', 'w');
    second.net.link('w', 'out');
    const report2 = await second.clock.run(second.net, '3s');
    expect(out2.frames.map((f) => f.frame)).toEqual([1000, 2000, 3000]);
    expect(out2.frames[0].value).toEqual({ error: expect.stringMatching(/no_such_column/) });
    expect(report2.stats.w.errors).toBe(3);
  });

  it('fails to start with an error naming the node and an SQL parameter it cannot bind', async () => {
    const { store } = await driver.open({ entities });
    const { t, net } = virtualNetwork(store);
    net.add('in', t.source('-|'));
    net.add(
      'w',
      windows.timeWindow({
        sql: 'select * from example_bets where create_time >= :since',
        table: 'example_bets',
        duration: '1s',
        timeColumn: 'create_time',
      }),
    );
    net.add('out', t.sink().node);
    net.link('in', 'w');
    net.link('w', 'out');
    expect(() => net.startSync()).toThrow(/node 'w': SQL parameter ':since' has no value \(bound here: :now, :window_start, :duration\)/);
  });

  it('fails to start when the time column is not in the table', async () => {
    const { store } = await driver.open({ entities });
    const { t, net } = virtualNetwork(store);
    net.add('in', t.source('-|'));
    net.add('w', windows.timeWindow({ sql: 'select 1', table: 'example_bets', duration: '1s', timeColumn: 'created' }));
    net.add('out', t.sink().node);
    net.link('in', 'w');
    net.link('w', 'out');
    expect(() => net.startSync()).toThrow(/node 'w': table 'example_bets' has no time column 'created'/);
  });
});

const mysql = drivers.find((d) => d.name === 'mysql');
(mysql ? describe : describe.skip)('time_window with the original MySQL-only SQL on MariaDB', () => {
  it('runs FROM_UNIXTIME(b.create_time) >= now() - interval 10 second as the original did', async () => {
    const { store } = await mysql!.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    // That SQL reads the database clock, so the virtual clock starts at the database's time.
    const [{ db_now }] = await store.query('select unix_timestamp() * 1000 as db_now');
    t.scheduler.frame = Number(db_now);
    const out = t.sink();
    const original = `
      select round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability, customer_uuid, game_id
      from example_bets b join example_selections s on b.uuid = s.bet_uuid
      where FROM_UNIXTIME(b.create_time) >= now() - interval 10 second
      group by customer_uuid, game_id
      having liability > 130`;
    net.add('in', scheduledSource(Array.from({ length: 6 }, (_, i) => ({ at: t.scheduler.frame + 100 + i, payload: bet(`b${i}`) }))));
    net.add(
      'customer_liability',
      windows.timeWindow({ sql: original, table: 'example_bets', duration: '10s', every: '1s', timeColumn: 'create_time' }),
    );
    net.add('out', out.node);
    net.link('in', 'customer_liability');
    net.link('customer_liability', 'out');
    await clock.run(net, '1s');
    expect(out.frames.map((f) => f.value)).toEqual([{ liability: 138, customer_uuid: 'c1', game_id: 123456 }]);
  });
});
