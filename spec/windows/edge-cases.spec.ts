import { Subject } from 'rxjs';
import { VirtualClock } from 'tributary/testing';
import { createEvent, createNodeContext, withError, type Event, type NodeSpec, type PipelineNode } from 'tributary';
import { WINDOW_SERVICE, windows, type WindowStore } from 'tributary/windows';
import { VirtualTime } from 'tributary/testing';
import { entities } from '../../examples/advanced/entities';
import { bet, count, drivers, scheduledSource, virtualNetwork } from './helpers';

/** Runs a window node as a bare operator on a Subject (no network), on a virtual clock. */
function standalone(node: NodeSpec, store: WindowStore) {
  const t = new VirtualTime();
  const ctx = createNodeContext('w', {
    scheduler: t.scheduler,
    services: new Map([[WINDOW_SERVICE, store]]),
    logger: { warn: () => undefined, error: () => undefined },
  });
  const input = new Subject<Event>();
  const out: { frame: number; e: Event }[] = [];
  let completed = false;
  const sub = (node as PipelineNode)
    .create(ctx)(input)
    .subscribe({ next: (e) => out.push({ frame: t.scheduler.now(), e }), complete: () => (completed = true) });
  return { t, ctx, input, out, sub, clock: new VirtualClock(t.scheduler, store), completed: () => completed };
}

const kinds = (sql: string) => ({
  window: windows.window(),
  query_window: windows.queryWindow({ sql }),
  time_window: windows.timeWindow({ sql, table: 'example_bets', duration: '1s', timeColumn: 'create_time' }),
  count_window: windows.countWindow({ sql, table: 'example_bets', count: 5, orderColumn: 'create_time' }),
  filter: windows.filter({ duration: '1s' }),
});

describe.each(drivers)('window kinds on $name: error events, completion and early unsubscribe', (driver) => {
  it.each(Object.keys(kinds('')))('%s passes an error event through untouched and completes after its input', async (kind) => {
    const { store } = await driver.open({ entities });
    const s = standalone(kinds('select customer_uuid from example_bets')[kind as 'window'], store);
    const failed = withError(createEvent({ x: 1 }), new Error('upstream broke'), 'parser');
    s.input.next(failed);
    await s.clock.advanceTo(0);
    expect(s.out.map((o) => o.e)).toEqual([failed]);
    s.input.complete();
    await s.clock.advanceTo(0);
    expect(s.completed()).toBe(true);
    expect(s.t.scheduler.actions).toHaveLength(0); // no timer outlives the input
  });

  it.each(['time_window', 'count_window', 'filter'])('%s stops its timer on early unsubscribe', async (kind) => {
    const { store } = await driver.open({ entities });
    const node =
      kind === 'count_window'
        ? windows.countWindow({
            sql: 'select count(*) as n from example_bets',
            table: 'example_bets',
            count: 5,
            orderColumn: 'create_time',
            every: '1s',
          })
        : kinds('select count(*) as n from example_bets')[kind as 'time_window'];
    const s = standalone(node, store);
    s.input.next(createEvent(bet('b1', { time: 0 }), { time: 0 }));
    await s.clock.advanceTo(1000);
    const before = s.out.length;
    s.sub.unsubscribe();
    expect(s.t.scheduler.actions).toHaveLength(0);
    await s.clock.advanceTo(5000);
    expect(s.out.length).toBe(before);
  });
});

describe.each(drivers)('clear after ack with clearSql on $name', (driver) => {
  it('deletes the joined rows named by the output row once the alert is acked', async () => {
    const { store } = await driver.open({ entities });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    const liability = `
      select customer_uuid, game_id, round(sum(stake*exchange_rate*(b.odds -1)), 2) as liability
      from example_bets b join example_selections s on b.uuid = s.bet_uuid
      where b.create_time >= :window_start
      group by customer_uuid, game_id
      having liability > 60`;
    const clearSql = `
      delete from example_selections where game_id = :game_id and bet_uuid in (
        select uuid from example_bets where customer_uuid = :customer_uuid)`;
    const bets = [
      ...[100, 200, 300].map((at, i) => ({ at, payload: bet(`a${i}`, { customer: 'c1', game: 123456, time: 0 }) })),
      ...[150, 250].map((at, i) => ({ at, payload: bet(`b${i}`, { customer: 'c1', game: 654321, time: 0 }) })),
    ];
    net.add('in', scheduledSource(bets));
    net.add(
      'w',
      windows.timeWindow({
        sql: liability,
        table: 'example_bets',
        duration: '10s',
        every: '1s',
        timeColumn: 'create_time',
        clearSql: clearSql,
      }),
    );
    net.add('alerts', out.node);
    net.link('in', 'w');
    net.link('w', 'alerts');
    await clock.run(net, '3s');
    expect(out.frames).toEqual([{ frame: 1000, value: { customer_uuid: 'c1', game_id: 123456, liability: 69 } }]);
    // the game-123456 selections went; the game-654321 ones (46, below the threshold) stay
    expect(await store.query('select game_id, count(*) as n from example_selections group by game_id')).toEqual([
      { game_id: 654321, n: 2 },
    ]);
    expect(await count(store, 'example_bets')).toBe(5);
  });

  it('rejects clearColumns that are not columns of the table, naming the node', async () => {
    const { store } = await driver.open({ entities });
    const { t, net } = virtualNetwork(store);
    net.add('in', t.source('-|'));
    net.add(
      'w',
      windows.timeWindow({ sql: 'select 1', table: 'example_bets', duration: '1s', timeColumn: 'create_time', clearColumns: ['game_id'] }),
    );
    net.add('out', t.sink().node);
    net.link('in', 'w');
    net.link('w', 'out');
    expect(() => net.startSync()).toThrow(/node 'w': clear column 'game_id' is not a column of table 'example_bets'/);
  });
});
