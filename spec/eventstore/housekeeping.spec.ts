import { Network, nodes } from 'tributary';
import { EVENTSTORE_SERVICE, EventArchiver, EventDiscarder, eventstorePlugin, type HousekeepingProgress } from '../../lib/eventstore';
import { drivers } from './helpers';

const add = (store: { addEvents(e: { type: string; data: unknown }[]): Promise<void> }, n: number, from = 1) =>
  store.addEvents(Array.from({ length: n }, (_, i) => ({ type: 'N', data: from + i })));

describe.each(drivers)('archiver and discarder on $name', (driver) => {
  it('the archiver copies the stream in batches to the history table and reports progress', async () => {
    const t = await driver.open();
    await add(t.store, 25);
    const archiver = await EventArchiver.open(t.store, { batch: 10 });
    const progress: HousekeepingProgress[] = [];
    archiver.progress$.subscribe((p) => progress.push(p));
    while (await archiver.step());
    const history: Record<string, unknown>[] = await t.store.dataSource.query(`SELECT id, type, data FROM ${t.prefix}history ORDER BY id`);
    expect(history.map((r) => JSON.parse(String(r.data)) as number)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(progress.map((p) => (p.kind === 'archived' ? p.count : -1))).toEqual([10, 10, 5]);
    expect(archiver.stats).toMatchObject({ events: 25, batches: 3 });
    await archiver.stop();
  });

  it('the archiver is idempotent by the last archived id (a crash between write and ack)', async () => {
    const t = await driver.open();
    await add(t.store, 5);
    const first = await EventArchiver.open(t.store, { batch: 10 });
    await first.step();
    await first.stop();
    // The ack is lost, as if the process died after writing: the pointer goes back to 0.
    await t.store.dataSource.query(`UPDATE ${t.prefix}consumers SET last_id = 0`);
    await add(t.store, 2, 6);
    const again = await EventArchiver.open(t.store, { batch: 10 });
    expect(again.stats.lastId).not.toBe('0');
    await again.step();
    const history: Record<string, unknown>[] = await t.store.dataSource.query(`SELECT data FROM ${t.prefix}history ORDER BY id`);
    expect(history.map((r) => JSON.parse(String(r.data)) as number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(again.stats.events).toBe(2);
    await again.stop();
  });

  it('the discarder deletes only what every consumer passed, in bounded batches', async () => {
    const t = await driver.open();
    await add(t.store, 12);
    const discarder = new EventDiscarder(t.store, { batch: 4 });
    expect(await discarder.step()).toBe(false); // no consumer: nothing is deleted (FTN18)
    expect(await t.store.count()).toBe(12);
    await t.store.registerConsumer('fast');
    await t.store.registerConsumer('slow');
    const all = await t.store.poll('LIVE', { limit: 100 });
    await t.store.ack('fast', all[11].id);
    await t.store.ack('slow', all[9].id);
    const progress: HousekeepingProgress[] = [];
    discarder.progress$.subscribe((p) => progress.push(p));
    while (await discarder.step());
    expect(progress).toEqual([
      { kind: 'discarded', count: 4 },
      { kind: 'discarded', count: 4 },
      { kind: 'discarded', count: 2 },
    ]);
    expect((await t.store.poll('LIVE')).map((e) => e.data)).toEqual([11, 12]);
    expect((await t.store.poll('slow')).map((e) => e.data)).toEqual([11, 12]);
  });

  it('a consumer not seen for expireAfter is expired so it no longer blocks discarding', async () => {
    let now = 1_000_000;
    const t = await driver.open({ now: () => now });
    await add(t.store, 3);
    await t.store.registerConsumer('dead');
    await t.store.registerConsumer('alive');
    const all = await t.store.poll('LIVE');
    now += 60_000;
    await t.store.ack('alive', all[2].id);
    const discarder = new EventDiscarder(t.store, { expireAfter: 30_000 });
    const progress: HousekeepingProgress[] = [];
    discarder.progress$.subscribe((p) => progress.push(p));
    await discarder.step();
    expect(progress).toEqual([
      { kind: 'expired', consumers: ['dead'] },
      { kind: 'discarded', count: 3 },
    ]);
    expect((await t.store.consumers()).map((c) => c.component)).toEqual(['alive']);
    expect(discarder.stats).toMatchObject({ events: 3, expired: 1 });
  });

  it('the archiver writes to another history database given by URL', async () => {
    const t = await driver.open();
    await add(t.store, 3);
    const other = await driver.open();
    const archiver = await EventArchiver.open(t.store, { history: other.url, prefix: `${t.prefix}dwh_` });
    await archiver.step();
    await archiver.stop();
    const reader = await other.appDataSource();
    const rows: Record<string, unknown>[] = await reader.query(`SELECT COUNT(*) AS n FROM ${t.prefix}dwh_history`);
    expect(Number(rows[0].n)).toBe(3);
    await reader.query(`DROP TABLE ${t.prefix}dwh_history`);
  });
});

describe.each(drivers)('housekeeping nodes on $name', (driver) => {
  it('eventstore_archiver and eventstore_discarder run in a network, emit progress and publish gauges', async () => {
    const t = await driver.open();
    await add(t.store, 30);
    const progress: HousekeepingProgress[] = [];
    const net = new Network({ plugins: [eventstorePlugin], logger: { warn: () => undefined, error: () => undefined } });
    net.provide(EVENTSTORE_SERVICE, t.store);
    net.create('eventstore_archiver', 'archive', { batch: 10, interval: '1h' });
    net.create('eventstore_discarder', 'discard', { batch: 7, interval: '20ms' });
    net.add('log', nodes.sink({ fn: (p: HousekeepingProgress) => void progress.push(p) }));
    net.fanin('log', 'archive', 'discard');
    await net.start();
    const sum = (kind: 'archived' | 'discarded') =>
      progress.reduce((n, p) => n + ((p.kind === 'archived' || p.kind === 'discarded') && p.kind === kind ? p.count : 0), 0);
    while (sum('discarded') < 30) await new Promise((r) => setImmediate(r));
    const text = await net.metrics().metrics();
    await net.stop();
    const archived = sum('archived');
    const discarded = sum('discarded');
    expect(await t.store.count()).toBe(0);
    expect(archived).toBe(30);
    expect(discarded).toBe(30); // only after the archiver (a registered consumer) passed them
    expect(text).toContain('tributary_node_gauge{node="archive",kind="eventstore_archiver",gauge="events"} 30');
    expect(text).toContain('tributary_node_gauge{node="discard",kind="eventstore_discarder",gauge="events"} 30');
  }, 30_000);
});
