import { entities } from '../../examples/advanced/entities';
import { nodes } from 'tributary';
import { windows } from 'tributary/windows';
import { bet, count, drivers, scheduledSource, virtualNetwork } from './helpers';

describe.each(drivers)('count_window (last N rows) on $name', (driver) => {
  it('keeps the newest N rows and runs the query after each committed batch', async () => {
    const { store } = await driver.open({ tables: [{ name: 'ticks', columns: { price: 'number' } }] });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', scheduledSource([10, 20, 30, 40, 50].map((price, i) => ({ at: (i + 1) * 100, payload: { price } }))));
    net.add('last3', windows.countWindow({ sql: 'select count(*) as n, avg(price) as avg_price from ticks', table: 'ticks', count: 3 }));
    net.add('out', out.node);
    net.link('in', 'last3');
    net.link('last3', 'out');
    await clock.run(net, '1s');
    expect(out.frames).toEqual([
      { frame: 100, value: { n: 1, avg_price: 10 } },
      { frame: 200, value: { n: 2, avg_price: 15 } },
      { frame: 300, value: { n: 3, avg_price: 20 } },
      { frame: 400, value: { n: 3, avg_price: 30 } },
      { frame: 500, value: { n: 3, avg_price: 40 } },
    ]);
    expect(await store.query('select price from ticks order by id')).toEqual([{ price: 30 }, { price: 40 }, { price: 50 }]);
  });

  it('runs once per burst committed together, and on a timer with `every`', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const burst = Array.from({ length: 10 }, (_, i) => ({ at: 100, payload: bet(`b${i}`, { time: i }) }));
    net.add('in', scheduledSource(burst));
    net.add(
      'last4',
      windows.countWindow({
        sql: 'select count(*) as n, min(create_time) as oldest from example_bets',
        table: 'example_bets',
        count: 4,
        orderColumn: 'create_time',
        every: '250ms',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'last4');
    net.link('last4', 'out');
    await clock.run(net, '500ms');
    expect(out.frames).toEqual([
      { frame: 250, value: { n: 4, oldest: 6 } },
      { frame: 500, value: { n: 4, oldest: 6 } },
    ]);
    expect(await count(store, 'example_selections')).toBe(4); // children trimmed with their bets
  });

  it('keeps exactly N rows when the order column has ties (regression: rows sharing the edge time inside the window were deleted)', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    // ten bets in the same second: create_time ties everywhere
    const burst = Array.from({ length: 10 }, (_, i) => ({ at: 100 + i, payload: bet(`b${i}`, { time: 7 }) }));
    net.add('in', scheduledSource(burst));
    net.add(
      'last5',
      windows.countWindow({
        sql: 'select count(*) as n from example_bets',
        table: 'example_bets',
        count: 5,
        orderColumn: 'create_time',
        every: '1s',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'last5');
    net.link('last5', 'out');
    await clock.run(net, '1s');
    expect(out.frames).toEqual([{ frame: 1000, value: { n: 5 } }]);
    expect(await count(store, 'example_bets')).toBe(5);
  });

  it('needs an order column when the table has no generated one', async () => {
    const { store } = await driver.open({ tables: [{ name: 'keyed', columns: { k: { type: 'string', primary: true }, v: 'number' } }] });
    const { t, net } = virtualNetwork(store);
    net.add('in', t.source('-|'));
    net.add('w', windows.countWindow({ sql: 'select 1', table: 'keyed', count: 2, orderColumn: 'nope' }));
    net.add('end', nodes.discarder());
    net.link('in', 'w');
    net.link('w', 'end');
    expect(() => net.startSync()).toThrow(/node 'w': table 'keyed' has no column 'nope'/);
  });
});
