import { nodes } from 'tributary';
import { windows, type AggregateWindowOptions, type WindowStore } from 'tributary/windows';
import { drivers, persistentDrivers, scheduledSource, virtualNetwork, type AckLog } from './helpers';

type Item = { at: number; payload: unknown };

/** Runs items through one aggregate window for `duration` of virtual time; its outputs by frame. */
async function runWindow(store: WindowStore, items: Item[], options: AggregateWindowOptions, duration: number | string, log?: AckLog) {
  const { t, net, clock } = virtualNetwork(store);
  const out = t.sink();
  const src = scheduledSource(items, {}, log);
  net.add('in', src);
  net.add('agg', windows.aggregateWindow(options));
  net.add('out', out.node);
  net.link('in', 'agg');
  net.link('agg', 'out');
  const report = await clock.run(net, duration);
  return { out, report, log: src.log };
}

const q = (store: WindowStore, name: string) => (store.driver === 'mysql' ? `\`${name}\`` : `"${name}"`);

async function paneRows(store: WindowStore, table = 'tb_panes_agg'): Promise<number> {
  const [{ n }] = await store.query(`select count(*) as n from ${q(store, table)}`);
  return Number(n);
}

describe.each(drivers)('aggregate_window on $name', (driver) => {
  it('tumbling (every = duration): one result per key per window, sum/count/avg/min/max, ordered by the keys', async () => {
    const { store } = await driver.open();
    const items: Item[] = [
      { at: 100, payload: { user: 'bob', amount: 10 } },
      { at: 200, payload: { user: 'ann', amount: 5 } },
      { at: 1500, payload: { user: 'ann', amount: 7 } },
      { at: 2500, payload: { user: 'ann', amount: 1 } },
      { at: 3200, payload: { user: 'bob', amount: 4 } },
    ];
    const { out, log } = await runWindow(
      store,
      items,
      {
        groupBy: ['user'],
        measures: { n: 'count()', total: 'sum(amount)', mean: 'avg(amount)', low: 'min(amount)', high: 'max(amount)' },
        duration: '2s',
        timeUnit: 'ms',
      },
      '4s',
    );
    expect(out.frames).toEqual([
      { frame: 2000, value: { user: 'ann', n: 2, total: 12, mean: 6, low: 5, high: 7 } },
      { frame: 2000, value: { user: 'bob', n: 1, total: 10, mean: 10, low: 10, high: 10 } },
      { frame: 4000, value: { user: 'ann', n: 1, total: 1, mean: 1, low: 1, high: 1 } },
      { frame: 4000, value: { user: 'bob', n: 1, total: 4, mean: 4, low: 4, high: 4 } },
    ]);
    expect(log.acked).toEqual(['0', '1', '2', '3', '4']); // every input acked once its pane row committed
    // Panes are whole windows here: after the run at 4 s only the panes from 2 s on remain.
    expect(await paneRows(store)).toBe(2);
  });

  it('sliding: reads the panes of the last duration at every slide; expired panes are dropped whole, a window at a time', async () => {
    const { store } = await driver.open();
    const items: Item[] = [0, 1, 2, 3, 4, 5].map((s) => ({ at: s * 1000 + 300, payload: { k: 'a', v: s + 1 } }));
    const { out, report } = await runWindow(
      store,
      items,
      { groupBy: ['k'], measures: { total: 'sum(v)' }, duration: '3s', every: '1s' },
      '6s',
    );
    // At T the window holds the rows of [T-3s, T): 1 | 1+2 | 1+2+3 | 2+3+4 | 3+4+5 | 4+5+6
    expect(out.frames.map((f) => [f.frame, (f.value as { total: number }).total])).toEqual([
      [1000, 1],
      [2000, 3],
      [3000, 6],
      [4000, 9],
      [5000, 12],
      [6000, 15],
    ]);
    // Panes 0 … 5 were written; the run at 4 s deleted the one before 1 s (a window's worth
    // had expired: 3 panes since the first run's cut-off); 1 and 2, expired since, wait for
    // the next delete, so the table never holds more than two windows of panes.
    expect(await paneRows(store)).toBe(5);
    expect(report.stats.agg).toMatchObject({ in: 6, errors: 0 });
  });

  it('keeps one row per group and pane however many events arrive: the state is O(groups × panes), not O(rows)', async () => {
    const { store } = await driver.open();
    // 900 events in 9 bursts over 3 s for 2 users: 2 × 3 pane rows.
    const items: Item[] = Array.from({ length: 900 }, (_, i) => ({
      at: Math.floor(i / 300) * 1000 + 100 + (i % 3) * 300,
      payload: { user: i % 2 ? 'ann' : 'bob', v: 1 },
    }));
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add('in', scheduledSource(items));
    net.add(
      'agg',
      windows.aggregateWindow({ groupBy: ['user'], measures: { n: 'count()', total: 'sum(v)' }, duration: '10s', every: '1s' }),
    );
    net.add('out', out.node);
    net.link('in', 'agg');
    net.link('agg', 'out');
    await clock.start(net);
    await clock.advanceTo(2999);
    expect(await paneRows(store)).toBe(6);
    await clock.advanceTo(3000);
    await clock.stop(net);
    expect(out.frames.slice(-2)).toEqual([
      { frame: 3000, value: { user: 'ann', n: 450, total: 450 } },
      { frame: 3000, value: { user: 'bob', n: 450, total: 450 } },
    ]);
  });

  it('counts a late row whose pane is still in the window, and drops (acking) one whose pane has expired', async () => {
    const { store } = await driver.open();
    const items: Item[] = [
      { at: 500, payload: { k: 'a', v: 1, at_ms: 500, label: 'on time' } },
      // arrives at 2.5 s but happened at 1.2 s: still inside the 3 s window
      { at: 2500, payload: { k: 'a', v: 10, at_ms: 1200, label: 'late, in window' } },
      // arrives at 5.5 s but happened at 0.8 s: its pane expired at the run at 4 s
      { at: 5500, payload: { k: 'a', v: 100, at_ms: 800, label: 'too late' } },
    ];
    const { out, log, report } = await runWindow(
      store,
      items,
      { groupBy: ['k'], measures: { total: 'sum(v)' }, duration: '3s', every: '1s', timeField: 'at_ms', timeUnit: 'ms' },
      '6s',
    );
    expect(out.frames.map((f) => [f.frame, (f.value as { total: number }).total])).toEqual([
      [1000, 1],
      [2000, 1],
      [3000, 11],
      [4000, 10],
    ]);
    expect(log.acked).toEqual(['on time', 'late, in window', 'too late']);
    expect(report.stats.agg.errors).toBe(0);
  });

  it('keeps min and max right when the pane holding the extreme expires', async () => {
    const { store } = await driver.open();
    const items: Item[] = [
      { at: 100, payload: { k: 'a', v: 50 } }, // the max, expires at 3 s
      { at: 1100, payload: { k: 'a', v: -7 } }, // the min, expires at 4 s
      { at: 2100, payload: { k: 'a', v: 20 } },
      { at: 3100, payload: { k: 'a', v: 30 } },
    ];
    const { out } = await runWindow(
      store,
      items,
      { groupBy: ['k'], measures: { low: 'min(v)', high: 'max(v)' }, duration: '3s', every: '1s' },
      '5s',
    );
    expect(out.frames.map((f) => [f.frame, f.value])).toEqual([
      [1000, { k: 'a', low: 50, high: 50 }],
      [2000, { k: 'a', low: -7, high: 50 }],
      [3000, { k: 'a', low: -7, high: 50 }],
      [4000, { k: 'a', low: -7, high: 30 }],
      [5000, { k: 'a', low: 20, high: 30 }],
    ]);
  });

  it('emits only the groups passing having, which sees output fields and aggregates', async () => {
    const { store } = await driver.open();
    const items: Item[] = [
      { at: 100, payload: { c: 'x', stake: 100 } },
      { at: 200, payload: { c: 'y', stake: 5 } },
      { at: 300, payload: { c: 'y', stake: 5 } },
      { at: 1100, payload: { c: 'x', stake: 20 } },
    ];
    const { out } = await runWindow(
      store,
      items,
      { groupBy: ['c'], measures: { total: 'sum(stake)' }, having: 'total > 50 and count() >= 2', duration: '10s', every: '1s' },
      '2s',
    );
    expect(out.frames).toEqual([{ frame: 2000, value: { c: 'x', total: 120 } }]);
  });

  it('aggregates per item of a list and evaluates expressions at insert time (liability, product of odds)', async () => {
    const { store } = await driver.open();
    const bet = (uuid: string, stake: number, games: number[]) => ({
      uuid,
      customer_uuid: 'c1',
      stake,
      exchange_rate: 2,
      odds: 1.5,
      selections: games.map((g, i) => ({ game_id: g, odds: 1 + i })),
    });
    const { out } = await runWindow(
      store,
      [
        { at: 100, payload: bet('b1', 10, [1, 2]) },
        { at: 200, payload: bet('b2', 20, [2]) },
      ],
      {
        each: 'selections',
        groupBy: ['customer_uuid', 'item.game_id'],
        measures: {
          liability: 'round(sum(stake * exchange_rate * (odds - 1)), 2)',
          acca: 'max(stake * product(selections.odds))',
          item_odds: 'sum(item.odds)',
        },
        duration: '10s',
        every: '1s',
      },
      '1s',
    );
    expect(out.frames).toEqual([
      { frame: 1000, value: { customer_uuid: 'c1', game_id: 1, liability: 10, acca: 20, item_odds: 1 } },
      { frame: 1000, value: { customer_uuid: 'c1', game_id: 2, liability: 30, acca: 20, item_odds: 3 } },
    ]);
  });

  it('clears the groups behind an output once it is acked, so the alert has to build up again', async () => {
    const { store } = await driver.open();
    const items: Item[] = [500, 1500, 2500, 3500, 4500, 5500].map((at, i) => ({ at, payload: { c: 'c1', g: i % 2, label: `b${i}` } }));
    const { out } = await runWindow(
      store,
      items,
      { groupBy: ['c', 'g'], measures: { n: 'count()' }, having: 'n >= 2', duration: '10s', every: '1s', clearColumns: ['c'] },
      '7s',
    );
    // Without clearing, game 0 would fire every second from 3 s on. Clearing by customer at 3 s
    // deletes both games' panes, so game 1 needs two new bets (3.5 s, 5.5 s) to fire at 6 s.
    expect(out.frames).toEqual([
      { frame: 3000, value: { c: 'c1', g: 0, n: 2 } },
      { frame: 6000, value: { c: 'c1', g: 1, n: 2 } },
    ]);
    expect(await paneRows(store)).toBe(0); // the ack at 6 s cleared b4 (game 0) too
  });

  it('keeps firing while outputs are nacked (a failed alert clears nothing)', async () => {
    const { store } = await driver.open();
    const { net, clock } = virtualNetwork(store);
    let calls = 0;
    net.add('in', scheduledSource([{ at: 500, payload: { c: 'c1' } }]));
    net.add(
      'agg',
      windows.aggregateWindow({ groupBy: ['c'], measures: { n: 'count()' }, duration: '10s', every: '1s', clearColumns: ['c'] }),
    );
    net.add(
      'alert',
      nodes.sink({
        fn: () => {
          calls++;
          throw new Error('slack is down');
        },
      }),
    );
    net.link('in', 'agg');
    net.link('agg', 'alert');
    await clock.run(net, '3s');
    expect(calls).toBe(3);
    expect(await paneRows(store)).toBe(1);
  });

  it('turns a payload it cannot aggregate into an error event naming the node and the measure; the rest commit', async () => {
    const { store } = await driver.open();
    const { out, log } = await runWindow(
      store,
      [
        { at: 100, payload: { k: 'a', v: 'lots', label: 'bad' } },
        { at: 200, payload: { k: 'a', v: 2, label: 'good' } },
      ],
      { groupBy: ['k'], measures: { total: 'sum(v)' }, duration: '1s' },
      '1s',
    );
    const errors = out.events.filter((e) => e.error);
    expect(errors).toHaveLength(1);
    expect(errors[0].error!.node).toBe('agg');
    expect(errors[0].error!.message).toMatch(/sum\(v\) needs a number, got "lots"/);
    expect(out.events.filter((e) => !e.error).map((e) => e.payload)).toEqual([{ k: 'a', total: 2 }]);
    expect(log.acked).toEqual(['good']);
  });

  it('gives the final run at input end, with the newest row time as its clock when that is later', async () => {
    const { store } = await driver.open();
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    // A replay: rows from Unix second 100, the virtual clock near 0; the input ends at 300 ms.
    net.add(
      'in',
      scheduledSource(
        [
          { at: 100, payload: { k: 'a', ts: 100 } },
          { at: 200, payload: { k: 'a', ts: 103 } },
        ],
        { completeAt: 300 },
      ),
    );
    net.add('agg', windows.aggregateWindow({ groupBy: ['k'], measures: { n: 'count()' }, duration: '3s', every: '1s', timeField: 'ts' }));
    net.add('out', out.node);
    net.link('in', 'agg');
    net.link('agg', 'out');
    await clock.run(net, '5s');
    // now = 103 s: the window [100 s, 103 s] holds both rows
    expect(out.frames).toEqual([{ frame: 300, value: { k: 'a', n: 2 } }]);
  });
});

describe.each(persistentDrivers)('aggregate_window across a restart on $name', (driver) => {
  it('reads the panes a previous process wrote', async () => {
    const db = await driver.open();
    const options: AggregateWindowOptions = {
      groupBy: ['k'],
      measures: { total: 'sum(v)' },
      duration: '10s',
      every: '1s',
      timeField: 'at',
      timeUnit: 'ms',
    };
    await runWindow(db.store, [{ at: 100, payload: { k: 'a', v: 5, at: 100 } }], options, '1s');
    await db.store.close();
    const again = await db.reopen()!;
    // The second process starts at 2 s; its first run sees the first process's row.
    const { t, net, clock } = virtualNetwork(again);
    const out = t.sink();
    net.add('in', scheduledSource([{ at: 2500, payload: { k: 'a', v: 7, at: 2500 } }]));
    net.add('agg', windows.aggregateWindow(options));
    net.add('out', out.node);
    net.link('in', 'agg');
    net.link('agg', 'out');
    t.scheduler.frame = 2000;
    await clock.start(net);
    await clock.advanceTo(4000);
    await clock.stop(net);
    expect(out.frames.map((f) => [f.frame, f.value])).toEqual([
      [3000, { k: 'a', total: 12 }],
      [4000, { k: 'a', total: 12 }],
    ]);
  });
});

describe('aggregate_window options', () => {
  it('rejects bad expressions and names at declaration, naming the option', () => {
    const base = { duration: '10s' };
    expect(() => windows.aggregateWindow({ ...base, measures: { x: 'sum(' } })).toThrow(/measure 'x'.*expression 'sum\('/);
    expect(() => windows.aggregateWindow({ ...base, measures: { x: 'stake * 2' } })).toThrow(/measure 'x' has no aggregate/);
    expect(() => windows.aggregateWindow({ ...base, measures: { x: 'sum(evil(1))' } })).toThrow(/unknown function 'evil'/);
    expect(() => windows.aggregateWindow({ ...base, groupBy: ['a + b'], measures: { n: 'count()' } })).toThrow(
      /groupBy 'a \+ b' is not a path/,
    );
    expect(() => windows.aggregateWindow({ ...base, groupBy: ['c'], measures: { n: 'count()' }, clearColumns: ['d'] })).toThrow(
      /clear column 'd' is not a group key/,
    );
    expect(() => windows.aggregateWindow({ ...base, measures: { n: 'count()' }, evry: '1s' } as never)).toThrow(/did you mean 'every'/);
  });
});
