import { EventStoreError, type EventStore } from '../../lib/eventstore';
import { drivers } from './helpers';

const types = (events: { type: string }[]) => events.map((e) => e.type);

describe.each(drivers)('event store on $name', (driver) => {
  async function withOrders() {
    const t = await driver.open();
    const app = await t.appDataSource();
    const orders = `${t.prefix}orders`;
    await app.query(`CREATE TABLE ${orders} (id INT PRIMARY KEY, customer VARCHAR(20) NOT NULL)`);
    const q = (sql: string) =>
      app.options.type === 'postgres' ? sql.replace(/\?/g, (_, i: number) => `$${sql.slice(0, i).split('?').length}`) : sql;
    return { ...t, app, orders, q };
  }

  it('an event recorded in the caller transaction commits with it', async () => {
    const { store, app, orders, q } = await withOrders();
    await app.transaction(async (m) => {
      await m.query(q(`INSERT INTO ${orders} (id, customer) VALUES (?, ?)`), [1, 'c1']);
      await store.addEventIn(m, 'ORDER_PLACED', { order: 1, customer: 'c1' });
    });
    const events = await store.poll('LIVE');
    expect(events).toEqual([
      { id: expect.stringMatching(/^\d+$/), type: 'ORDER_PLACED', data: { order: 1, customer: 'c1' }, ts: expect.any(String) },
    ]);
    expect(Number.isNaN(Date.parse(events[0].ts))).toBe(false);
  });

  it('an event recorded in the caller transaction rolls back with it', async () => {
    const { store, app, orders, q } = await withOrders();
    await expect(
      app.transaction(async (m) => {
        await m.query(q(`INSERT INTO ${orders} (id, customer) VALUES (?, ?)`), [2, 'c2']);
        await store.addEventIn(m, 'ORDER_PLACED', { order: 2 });
        throw new Error('payment refused');
      }),
    ).rejects.toThrow('payment refused');
    await store.addEvent('AFTER', {});
    expect(types(await store.poll('LIVE'))).toEqual(['AFTER']);
    expect(await app.query(`SELECT * FROM ${orders}`)).toEqual([]);
  });

  it('an open transaction is not delivered before it commits', async () => {
    const { store, app, orders, q } = await withOrders();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const wrote = new Promise<void>((r) => (inserted = r));
    const tx = app.transaction(async (m) => {
      await m.query(q(`INSERT INTO ${orders} (id, customer) VALUES (?, ?)`), [3, 'c3']);
      await store.addEventIn(m, 'ORDER_PLACED', { order: 3 });
      inserted();
      await gate;
    });
    await wrote;
    expect(await store.poll('LIVE')).toEqual([]);
    release();
    await tx;
    expect(types(await store.poll('LIVE'))).toEqual(['ORDER_PLACED']);
  });

  it('refuses a bad type or data with the FTN18 reason, recording nothing', async () => {
    const { store } = await driver.open();
    for (const bad of ['order', 'TOO_LONG_TYPE_NAME_X', '', 'A1']) {
      await expect(store.addEvent(bad, {})).rejects.toMatchObject({ reason: 'InvalidEventType' });
    }
    await expect(store.addEvent('A', undefined)).rejects.toMatchObject({ reason: 'InvalidEventData' });
    await expect(
      store.addEvents([
        { type: 'A', data: 1 },
        { type: 'b', data: 2 },
      ]),
    ).rejects.toBeInstanceOf(EventStoreError);
    expect(await store.poll('LIVE')).toEqual([]);
  });

  it('ids are decimal strings in commit order; a batch records all its events', async () => {
    const { store } = await driver.open();
    await store.addEvents(Array.from({ length: 650 }, (_, i) => ({ type: 'N', data: { i } })));
    const events = await store.poll('LIVE', { limit: 1000 });
    expect(events).toHaveLength(650);
    expect(events.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 650 }, (_, i) => i));
    for (let i = 1; i < events.length; i++) expect(BigInt(events[i].id)).toBeGreaterThan(BigInt(events[i - 1].id));
  });

  it('registerConsumer is idempotent and LIVE is reserved', async () => {
    const { store } = await driver.open();
    await store.registerConsumer('billing');
    await store.addEvent('A', 1);
    const [a] = await store.poll('billing');
    await store.poll('billing', { lastId: a.id });
    await store.registerConsumer('billing'); // again: keeps the pointer
    expect(await store.poll('billing')).toEqual([]);
    expect((await store.consumers()).map((c) => [c.component, c.lastId])).toEqual([['billing', a.id]]);
    await expect(store.registerConsumer('LIVE')).rejects.toMatchObject({ reason: 'LiveNotAllowed' });
    await expect(store.poll('nobody')).rejects.toMatchObject({ reason: 'NotRegistered' });
  });

  it('a poll acknowledges up to lastId and the pointer only moves forward', async () => {
    const { store } = await driver.open();
    await store.registerConsumer('c');
    await store.addEvents([1, 2, 3, 4].map((i) => ({ type: 'N', data: i })));
    const all = await store.poll('c');
    expect(all.map((e) => e.data)).toEqual([1, 2, 3, 4]);
    expect((await store.poll('c')).map((e) => e.data)).toEqual([1, 2, 3, 4]); // nothing acked: same again
    expect((await store.poll('c', { lastId: all[1].id })).map((e) => e.data)).toEqual([3, 4]);
    expect((await store.poll('c', { lastId: all[0].id })).map((e) => e.data)).toEqual([3, 4]); // not back
    expect((await store.poll('c', { lastId: BigInt(all[3].id) })).map((e) => e.data)).toEqual([]);
    await expect(store.poll('c', { lastId: 1.5 })).rejects.toMatchObject({ reason: 'InvalidId' });
    await expect(store.poll('c', { lastId: '-1' })).rejects.toMatchObject({ reason: 'InvalidId' });
  });

  it('polls 100 events by default and 1000 at most', async () => {
    const { store } = await driver.open();
    await store.addEvents(Array.from({ length: 1200 }, (_, i) => ({ type: 'N', data: i })));
    expect(await store.poll('LIVE')).toHaveLength(100);
    expect(await store.poll('LIVE', { limit: 5000 })).toHaveLength(1000);
    expect(await store.poll('LIVE', { limit: 7 })).toHaveLength(7);
  });

  it('a filtered poll returns only wanted types; one that finds none moves the pointer past the rest', async () => {
    const { store } = await driver.open();
    await store.registerConsumer('f');
    await store.addEvents([
      { type: 'A', data: 1 },
      { type: 'B', data: 2 },
      { type: 'A', data: 3 },
    ]);
    const wanted = await store.poll('f', { want: ['B'] });
    expect(wanted.map((e) => e.data)).toEqual([2]);
    expect(await store.poll('f', { want: ['B'], lastId: wanted[0].id })).toEqual([]);
    const [c] = await store.consumers();
    const top = (await store.poll('LIVE', { limit: 10 })).at(-1)!.id;
    expect(c.lastId).toBe(top); // moved past the skipped A
    await store.addEvent('B', 4);
    expect((await store.poll('f', { want: ['B'] })).map((e) => e.data)).toEqual([4]);
    await expect(store.poll('f', { want: ['bad'] })).rejects.toMatchObject({ reason: 'InvalidEventType' });
  });

  it('a consumer registered late starts at the oldest event kept', async () => {
    const { store } = await driver.open();
    await store.addEvents([{ type: 'A', data: 1 }]);
    await store.registerConsumer('late');
    expect((await store.poll('late')).map((e) => e.data)).toEqual([1]);
  });

  it('a store over the application DataSource records in its transactions and wakes local consumers at commit', async () => {
    const t = await driver.open();
    const app = await t.appDataSource();
    const store = await t.reopen({ dataSource: app });
    let woken = 0;
    store.appended$.subscribe(() => woken++);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = app.transaction(async (m) => {
      await store.addEventIn(m, 'MINE', { n: 1 });
      await gate;
    });
    await Promise.resolve();
    expect(woken).toBe(0); // not before the commit
    release();
    await tx;
    expect(woken).toBe(1);
    expect((await store.poll('LIVE')).map((e) => e.type)).toEqual(['MINE']);
    await store.close();
    expect(app.isInitialized).toBe(true); // the application's DataSource stays open
  });

  it('a second store on the same tables sees the same stream and pointers (a restart)', async () => {
    const t = await driver.open();
    await t.store.registerConsumer('r');
    await t.store.addEvents([1, 2, 3].map((i) => ({ type: 'N', data: i })));
    const first = await t.store.poll('r', { limit: 2 });
    await t.store.ack('r', first[1].id);
    const other: EventStore = await t.reopen();
    expect((await other.poll('r')).map((e) => e.data)).toEqual([3]);
  });
});
