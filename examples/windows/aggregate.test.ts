// An aggregate window: the advanced example's liability per customer and game over the last
// 10 s, every second, kept as partial sums per second ("panes") instead of rows. Real SQLite,
// virtual time: VirtualClock waits for the database between frames.
import { Network, nodes } from 'tributary';
import { openWindowStore, WINDOW_SERVICE, windows } from 'tributary/windows';
import { VirtualClock, VirtualTime } from 'tributary/testing';

const bet = (customer_uuid: string, stake: number, games: number[]) => ({
  customer_uuid,
  stake,
  exchange_rate: 1,
  odds: 1.5,
  selections: games.map((game_id) => ({ game_id, odds: 1.5 })),
});

it('alerts on the liability per customer and game above 130 over the last 10 s', async () => {
  const store = await openWindowStore(); // sqlite::memory:; the window makes its own pane table
  try {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    net.provide(WINDOW_SERVICE, store);
    net.add('bets', nodes.from({ items: [bet('ann', 200, [1, 2]), bet('ann', 100, [1]), bet('bob', 5, [1])] }));
    net.add(
      'customer_liability',
      windows.aggregateWindow({
        each: 'selections', // one row per selection; the selection is `item`, the bet's fields are bare
        groupBy: ['customer_uuid', 'item.game_id'],
        measures: { liability: 'round(sum(stake * exchange_rate * (odds - 1)), 2)', bets: 'count()' },
        having: 'liability > 130',
        duration: '10s',
        every: '1s',
      }),
    );
    const alerts = t.sink();
    net.add('alerts', alerts.node);
    net.link('bets', 'customer_liability');
    net.link('customer_liability', 'alerts');

    await new VirtualClock(t.scheduler, store).run(net, '3s');

    // The bets arrive at 0 s (their event time); the input ends at once, so the window's final
    // run reports them then: ann on game 1 (200 × 0.5 + 100 × 0.5 = 150), not game 2 (100).
    expect(alerts.frames).toEqual([{ frame: 0, value: { customer_uuid: 'ann', game_id: 1, liability: 150, bets: 2 } }]);
  } finally {
    await store.close();
  }
});
