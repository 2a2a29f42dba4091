import { windows } from 'tributary/windows';
import { entities } from '../../examples/advanced/entities';
import { streamingIngest } from '../../examples/advanced/host';
import { drivers, virtualNetwork } from './helpers';

/** The free SQL of examples/advanced/network.lua (portable form). */
const LIABILITY_SQL = `
select customer_uuid, game_id, round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
from example_bets b join example_selections s on b.uuid = s.bet_uuid
where b.create_time >= :window_start
group by customer_uuid, game_id
having liability > 130`;

type Frame = { frame: number; value: unknown };
const byFrameAndKey = (frames: Frame[]) =>
  [...frames].sort((a, b) => a.frame - b.frame || JSON.stringify(a.value).localeCompare(JSON.stringify(b.value)));

describe.each(drivers)('aggregate_window against the free-SQL time_window on $name', (driver) => {
  it('gives the advanced example’s liability rows at every tick, from the same seeded stream of bets', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const free = t.sink();
    const pane = t.sink();
    net.add('streaming_ingest', streamingIngest({ seed: 42 }));
    net.add(
      'free_sql',
      windows.timeWindow({ sql: LIABILITY_SQL, table: 'example_bets', duration: '10s', every: '1s', timeColumn: 'create_time' }),
    );
    net.add(
      'panes',
      windows.aggregateWindow({
        each: 'selections',
        groupBy: ['customer_uuid', 'item.game_id'],
        measures: { liability: 'round(sum(stake * exchange_rate * (odds - 1)), 2)' },
        having: 'liability > 130',
        duration: '10s',
        every: '1s',
        timeField: 'create_time',
      }),
    );
    net.add('free_out', free.node);
    net.add('pane_out', pane.node);
    net.fanout('streaming_ingest', 'free_sql', 'panes');
    net.link('free_sql', 'free_out');
    net.link('panes', 'pane_out');
    const report = await clock.run(net, '60s');

    expect(report.stats.panes).toMatchObject({ in: 1200, errors: 0 });
    expect(free.frames.length).toBeGreaterThan(40); // customer A crosses 130 on both games, again and again
    expect(new Set(free.frames.map((f) => (f.value as { game_id: number }).game_id))).toEqual(new Set([123456, 654321]));
    expect(byFrameAndKey(pane.frames)).toEqual(byFrameAndKey(free.frames));
  }, 60_000);
});
