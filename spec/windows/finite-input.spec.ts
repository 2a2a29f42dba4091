/**
 * Issue 9 point 2: a window whose input ends (a list, a file replay) runs its query once more
 * over the rows no run has seen, emits the result and only then completes, so a finite
 * network finishes with its results. A cut-off network runs nothing more.
 */
import { entities } from '../../examples/advanced/entities';
import { createDelivery, createEvent, Network, nodes } from 'tributary';
import { VirtualClock, VirtualTime } from 'tributary/testing';
import { WINDOW_SERVICE, windows, windowsPlugin } from 'tributary/windows';
import { bet, count, drivers, scheduledSource, virtualNetwork, type AckLog } from './helpers';

const PER_CUSTOMER = `
  select customer_uuid, count(*) as n, sum(stake) as total
  from example_bets
  where create_time >= :window_start and create_time <= :now
  group by customer_uuid
  order by customer_uuid`;

/** A recorded stream: create_time in Unix seconds, far ahead of the virtual clock (0). */
const T0 = 1_700_000_000;

/** The recorded bets as events whose settlement is logged under their uuid. */
function recorded(items: { uuid: string; customer: string; at: number }[], log: AckLog) {
  return items.map(({ uuid, customer, at }) =>
    createEvent(bet(uuid, { customer, time: T0 + at }), {
      delivery: createDelivery((s) => (s.acked ? log.acked : log.nacked).push(uuid)),
    }),
  );
}

describe.each(drivers)('windows fed by a finite input on $name', (driver) => {
  it('time_window: the input ends before the first tick, yet the results arrive and the network completes', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const log: AckLog = { acked: [], nacked: [] };
    const items = recorded(
      [
        { uuid: 'b0', customer: 'c1', at: 0 },
        { uuid: 'b1', customer: 'c1', at: 5 },
        { uuid: 'b2', customer: 'c2', at: 12 },
        { uuid: 'b3', customer: 'c1', at: 15 },
      ],
      log,
    );
    net.add('replay', nodes.from({ items }));
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', every: '1m', timeColumn: 'create_time' }));
    net.add('out', out.node);
    net.link('replay', 'w');
    net.link('w', 'out');
    await clock.start(net);
    await clock.advanceTo(0);
    const report = await net.done();
    // :now is the newest row's time (T0+15 s, later than the clock's 0): the window it would
    // have shown live right after b3 — b0 (T0) is outside it, and expired.
    expect(out.frames).toEqual([
      { frame: 0, value: { customer_uuid: 'c1', n: 2, total: 200 } },
      { frame: 0, value: { customer_uuid: 'c2', n: 1, total: 100 } },
    ]);
    expect(out.completedAt).toBe(0);
    expect(report.timedOut).toBe(false);
    expect(log).toEqual({ acked: ['b0', 'b1', 'b2', 'b3'], nacked: [] });
    expect(await store.query('select uuid from example_bets order by uuid')).toEqual([{ uuid: 'b1' }, { uuid: 'b2' }, { uuid: 'b3' }]);
    // What the metrics show of the window: four rows stored, b0 expired, three held, one run (the final one), its time.
    const gauges = net.snapshot().nodes.find((n) => n.name === 'w')!.gauges;
    expect([gauges.rows_inserted.value, gauges.rows_expired.value, gauges.rows.value]).toEqual([4, 1, 3]);
    expect([gauges.ticks.value, gauges.ticks_skipped.value]).toEqual([1, 0]);
    expect(gauges.tick_seconds.value).toBeGreaterThan(0);
  });

  it('time_window: the final run binds the scheduler time when it is later than the newest row', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    // rows without a time column get the event time (the clock, 3 s and 4 s); the input ends at 8 s
    net.add(
      'in',
      scheduledSource(
        [3000, 4000].map((at, i) => ({ at, payload: bet(`b${i}`) })),
        { completeAt: 8000 },
      ),
    );
    net.add(
      'w',
      windows.timeWindow({
        sql: 'select count(*) as n, :now as now_s, :window_start as start_s from example_bets where create_time >= :window_start',
        table: 'example_bets',
        duration: '10s',
        every: '1m',
        timeColumn: 'create_time',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.start(net);
    await clock.advanceTo(8000);
    await net.done();
    expect(out.frames).toEqual([{ frame: 8000, value: { n: 2, now_s: 8, start_s: -2 } }]);
  });

  it('count_window: a synchronous list is queried per committed batch, and with `every` at input end', async () => {
    const { store } = await driver.open({
      tables: [
        { name: 'ticks', columns: { price: 'number' } },
        { name: 'ticks2', columns: { price: 'number' } },
      ],
    });
    const { t, net, clock } = virtualNetwork(store);
    const batch = t.sink();
    const timed = t.sink();
    net.add('in', nodes.from({ items: [10, 20, 30, 40, 50].map((price) => ({ price })) }));
    net.add('in2', nodes.from({ items: [10, 20, 30, 40, 50].map((price) => ({ price })) }));
    net.add('last3', windows.countWindow({ sql: 'select count(*) as n, avg(price) as avg_price from ticks', table: 'ticks', count: 3 }));
    net.add(
      'every',
      windows.countWindow({ sql: 'select count(*) as n, avg(price) as avg_price from ticks2', table: 'ticks2', count: 3, every: '1m' }),
    );
    net.add('batch', batch.node);
    net.add('timed', timed.node);
    net.link('in', 'last3');
    net.link('last3', 'batch');
    net.link('in2', 'every');
    net.link('every', 'timed');
    await clock.start(net);
    await clock.advanceTo(0);
    const report = await net.done();
    // the synchronous burst is committed in one transaction: one after-batch run, and no second one at the end
    expect(batch.frames).toEqual([{ frame: 0, value: { n: 3, avg_price: 40 } }]);
    expect(timed.frames).toEqual([{ frame: 0, value: { n: 3, avg_price: 40 } }]);
    expect(report.timedOut).toBe(false);
    expect(await count(store, 'ticks2')).toBe(3);
  });

  it('an input that never completes still emits only on ticks; the drain at stop queries the rows since the last tick', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const src = scheduledSource([100, 200, 1200].map((at, i) => ({ at, payload: bet(`b${i}`) })));
    net.add('in', src);
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', every: '1s', timeColumn: 'create_time' }));
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    let done = false;
    void net.done().then(() => (done = true));
    await clock.start(net);
    await clock.advanceTo(999);
    expect(out.frames).toEqual([]);
    await clock.advanceTo(1000);
    expect(out.frames).toEqual([{ frame: 1000, value: { customer_uuid: 'c1', n: 2, total: 200 } }]);
    await clock.advanceTo(1500);
    expect(out.frames).toHaveLength(1);
    expect(done).toBe(false);
    await clock.stop(net);
    expect(out.frames).toEqual([
      { frame: 1000, value: { customer_uuid: 'c1', n: 2, total: 200 } },
      { frame: 1500, value: { customer_uuid: 'c1', n: 3, total: 300 } },
    ]);
    expect(src.log.acked).toEqual(['0', '1', '2']);
  });

  it('a drain with no rows since the last tick runs no final query', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', scheduledSource([{ at: 100, payload: bet('b0') }]));
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', every: '1s', timeColumn: 'create_time' }));
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'out');
    await clock.run(net, '1500ms');
    expect(out.frames).toEqual([{ frame: 1000, value: { customer_uuid: 'c1', n: 1, total: 100 } }]);
  });

  it('a network cut off at the drain timeout does not run the final query', async () => {
    const { store } = await driver.open({ entities });
    const t = new VirtualTime();
    const net = new Network({
      scheduler: t.scheduler,
      plugins: [windowsPlugin()],
      logger: { warn: () => undefined, error: () => undefined },
      drainTimeout: '2s',
    });
    net.provide(WINDOW_SERVICE, store);
    const clock = new VirtualClock(t.scheduler, store);
    const out = t.sink();
    net.add('in', scheduledSource([100, 200].map((at, i) => ({ at, payload: bet(`b${i}`) }))));
    // a second input held for a minute: at stop the window's input has not ended when the drain times out
    net.add('slow', scheduledSource([{ at: 300, payload: bet('late') }]));
    net.add('held', nodes.delay({ duration: '1m' }));
    net.add('w', windows.timeWindow({ sql: PER_CUSTOMER, table: 'example_bets', duration: '10s', every: '1m', timeColumn: 'create_time' }));
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('slow', 'held');
    net.link('held', 'w');
    net.link('w', 'out');
    const report = await clock.run(net, '1s');
    expect(report.timedOut).toBe(true);
    expect(out.frames).toEqual([]);
    expect(await count(store, 'example_bets')).toBe(2); // committed, never queried
  });
});
