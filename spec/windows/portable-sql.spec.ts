import { createEvent } from 'tributary';
import { windows } from 'tributary/windows';
import { drivers, scheduledSource, virtualNetwork } from './helpers';

/**
 * One statement, the same rows on every driver: what differs between SQLite, MySQL and
 * PostgreSQL (number types, booleans, alias case, aliases in HAVING, round of a double,
 * parameters in the select list) must not show in the payloads.
 */
describe.each(drivers)('portable SQL on $name', (driver) => {
  const tables = [
    {
      name: 'readings',
      columns: { k: 'string', n: 'integer', x: 'number', ok: 'boolean', doc: { type: 'json', nullable: true } },
      index: ['n'],
    },
  ] as const;
  const rows = [
    { k: 'a', n: 1, x: 1.5, ok: true, doc: { v: 5 } },
    { k: 'a', n: 2, x: 1, ok: false, doc: { v: 7 } },
    { k: 'b', n: 40, x: 2.25, ok: true, doc: null },
  ];

  async function filled() {
    const { store } = await driver.open({ tables: tables.map((t) => ({ ...t, columns: { ...t.columns }, index: [...t.index] })) });
    const table = store.table('readings');
    await store.transaction((m) =>
      table.insert(
        m,
        rows.map((r) => table.prepare(r, createEvent(null))),
      ),
    );
    return store;
  }

  it('aggregates with a mixed-case alias used in HAVING, round() of a double, counts and sums as numbers', async () => {
    const store = await filled();
    const result = await store.query(
      `select k, count(*) as Total, sum(n) as sumN, round(avg(x), 2) as avgX, max(n) - min(n) as spread
       from readings where n >= :from group by k having Total > :min order by k`,
      { from: 1, min: 1 },
    );
    expect(result).toEqual([{ k: 'a', Total: 2, sumN: 3, avgX: 1.25, spread: 1 }]);
  });

  it('names unaliased expressions by their text', async () => {
    const store = await filled();
    expect(await store.query('select count(*), max(n) - min(n), k from readings where n = 40 group by k')).toEqual([
      { 'count(*)': 1, 'max(n) - min(n)': 0, k: 'b' },
    ]);
  });

  it('returns booleans and comparisons as 1/0, and compares boolean columns with true', async () => {
    const store = await filled();
    expect(await store.query('select k, ok, n > 1 as big from readings where ok = true order by n')).toEqual([
      { k: 'a', ok: 1, big: 0 },
      { k: 'b', ok: 1, big: 1 },
    ]);
  });

  it('binds parameters in the select list and in arithmetic as numbers, and compares a number with text without failing', async () => {
    const store = await filled();
    expect(
      await store.query('select :now as now_s, :now - :duration as start_s, :ratio * 2 as twice', { now: 20, duration: 10, ratio: 0.25 }),
    ).toEqual([{ now_s: 20, start_s: 10, twice: 0.5 }]);
    expect(await store.query('select k from readings where k = :k', { k: 1 })).toEqual([]);
    expect(await store.query('select k from readings where n in (:a, :b) order by n', { a: 2, b: 40 })).toEqual([{ k: 'a' }, { k: 'b' }]);
  });

  it('reads JSON text with json_extract', async () => {
    const store = await filled();
    expect(await store.query("select json_extract(doc, '$.v') as v from readings order by n")).toEqual([{ v: 5 }, { v: 7 }, { v: null }]);
  });

  it('runs a count window over a declared table with the same output', async () => {
    const { store } = await driver.open({ tables: [{ name: 'prices', columns: { sym: 'string', price: 'number', at: 'integer' } }] });
    const { t, net, clock } = virtualNetwork(store);
    const out = t.sink();
    net.add(
      'in',
      scheduledSource([
        { at: 10, payload: { sym: 'X', price: 10.5, at: 1 } },
        { at: 20, payload: { sym: 'X', price: 11, at: 2 } },
        { at: 30, payload: { sym: 'Y', price: 3, at: 3 } },
      ]),
    );
    net.add(
      'last2',
      windows.countWindow({
        sql: 'select sym, count(*) as N, round(sum(price), 1) as total from prices group by sym having N >= 1 order by sym',
        table: 'prices',
        count: 2,
        orderColumn: 'at',
      }),
    );
    net.add('out', out.node);
    net.link('in', 'last2');
    net.link('last2', 'out');
    await clock.run(net, '1s');
    expect(out.frames).toEqual([
      { frame: 10, value: { sym: 'X', N: 1, total: 10.5 } },
      { frame: 20, value: { sym: 'X', N: 2, total: 21.5 } },
      { frame: 30, value: { sym: 'X', N: 1, total: 11 } },
      { frame: 30, value: { sym: 'Y', N: 1, total: 3 } },
    ]);
  });
});
