import { entities } from '../../examples/advanced/entities';
import { windows } from 'tributary/windows';
import { bet, drivers, scheduledSource, virtualNetwork } from './helpers';

describe.each(drivers)('query_window on $name', (driver) => {
  it('runs the SQL per event after the inserts before it, emitting one event per row; no rows is no event and acks', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const src = scheduledSource([
      { at: 100, payload: { ...bet('b1', { customer: 'c1', stake: 5, time: 1 }), label: 'small' } },
      { at: 200, payload: { ...bet('b2', { customer: 'c1', stake: 100, time: 2 }), label: 'big1' } },
      { at: 300, payload: { ...bet('b3', { customer: 'c2', stake: 150, time: 3 }), label: 'big2' } },
    ]);
    net.add('in', src);
    net.add('bets_window', windows.window());
    net.add('big_bets', windows.queryWindow({ sql: 'select uuid, stake from example_bets where stake >= 100 order by create_time' }));
    net.add('out', out.node);
    net.link('in', 'bets_window');
    net.link('bets_window', 'big_bets');
    net.link('big_bets', 'out');
    const report = await clock.run(net, '1s');
    expect(out.frames).toEqual([
      { frame: 200, value: { uuid: 'b2', stake: 100 } },
      { frame: 300, value: { uuid: 'b2', stake: 100 } },
      { frame: 300, value: { uuid: 'b3', stake: 150 } },
    ]);
    // the trigger of two rows is acked once both rows are; the one without rows is acked at once
    expect(src.log.acked.sort()).toEqual(['big1', 'big2', 'small']);
    expect(report.stats.big_bets).toMatchObject({ in: 3, out: 3, dropped: 1, errors: 0 });
  });

  it("binds the trigger payload's fields as named parameters", async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add(
      'in',
      scheduledSource([
        { at: 1, payload: bet('b1', { customer: 'c1', stake: 5, time: 1 }) },
        { at: 2, payload: bet('b2', { customer: 'c2', stake: 7, time: 1 }) },
        { at: 3, payload: bet('b3', { customer: 'c1', stake: 11, time: 1 }) },
      ]),
    );
    net.add('w', windows.window());
    net.add(
      'q',
      windows.queryWindow({
        sql: 'select customer_uuid, sum(stake) as total from example_bets where customer_uuid = :customer_uuid group by customer_uuid',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'w');
    net.link('w', 'q');
    net.link('q', 'out');
    await clock.run(net, '10ms');
    expect(out.frames.map((f) => f.value)).toEqual([
      { customer_uuid: 'c1', total: 5 },
      { customer_uuid: 'c2', total: 7 },
      { customer_uuid: 'c1', total: 16 },
    ]);
  });

  it('turns a failing query or an unbound parameter into an error event naming the node', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', t.source('-a-b-', { a: { x: 1 }, b: 'text' }));
    net.add('q', windows.queryWindow({ sql: 'select * from example_bets where uuid = :x' }));
    net.add('out', out.node);
    net.link('in', 'q');
    net.link('q', 'out');
    const report = await clock.run(net, '10ms');
    expect(out.frames).toEqual([{ frame: 3, value: { error: expect.stringMatching(/node 'q': SQL parameter ':x' has no value/) } }]);
    expect(report.stats.q).toMatchObject({ in: 2, dropped: 1, errors: 1 });
  });
});
