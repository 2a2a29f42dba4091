// A database-backed window: real SQLite, virtual time. Not an rxjs-marbles test: the
// database answers asynchronously, so VirtualClock steps the clock one frame at a time and
// waits for the store between frames (a query started at 3 s emits while the clock reads 3 s).
import { Network } from 'tributary';
import { openWindowStore, WINDOW_SERVICE, windows } from 'tributary/windows';
import { VirtualClock, VirtualTime } from 'tributary/testing';

it('alerts every second while a user paid more than 100 in the last 10 s', async () => {
  const store = await openWindowStore({
    tables: [{ name: 'payments', columns: { user: 'string', amount: 'number', at: 'integer' }, index: ['at'] }],
  });
  try {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    net.provide(WINDOW_SERVICE, store);
    // `at` is left out: the window fills its time column from the event time (virtual ms).
    net.add(
      'payments',
      t.source('a 999ms b 999ms c', { a: { user: 'ann', amount: 60 }, b: { user: 'bob', amount: 30 }, c: { user: 'ann', amount: 50 } }),
    );
    net.add(
      'big_spenders',
      windows.timeWindow({
        sql: 'select user, sum(amount) as total from payments where at >= :window_start group by user having total > 100',
        table: 'payments',
        duration: '10s',
        timeColumn: 'at',
        timeUnit: 'ms',
        every: '1s',
      }),
    );
    const alerts = t.sink();
    net.add('alerts', alerts.node);
    net.link('payments', 'big_spenders');
    net.link('big_spenders', 'alerts');

    const report = await new VirtualClock(t.scheduler, store).run(net, '5s');

    // c arrives at 2 s and is committed before that frame's query: ann is at 110 from 2 s on.
    const ann = { user: 'ann', total: 110 };
    t.expectFrames(alerts, '2s a 999ms a 999ms a 999ms a', { a: ann });
    expect(report.stats.big_spenders).toMatchObject({ in: 3, errors: 0 });
  } finally {
    await store.close();
  }
});
