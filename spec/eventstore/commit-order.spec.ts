/**
 * Commit order: auto-increment ids are allocated at insert and become visible at commit, in
 * another order. A reader of `id > last` then skips a transaction that commits late with a
 * lower id. These specs make that happen on purpose and check that no event is skipped.
 */
import { firstValueFrom, filter, scan } from 'rxjs';
import { reliable$, type EventReceipt } from '../../lib/eventstore';
import { drivers, eachServer } from './helpers';

describe.each(drivers)('commit order on $name', (driver) => {
  it('a transaction that inserted first and commits last is delivered after a consumer acked a later one', async () => {
    const t = await driver.open();
    const { store } = t;
    await store.registerConsumer('c');
    if (driver.name === 'sqlite') {
      // SQLite has one writer: the second writer waits for the first to commit, so ids commit in order.
      await store.addEvent('ONLY', 1);
      expect((await store.poll('c')).map((e) => e.type)).toEqual(['ONLY']);
      return;
    }
    const app = await t.appDataSource();
    let commitEarly!: () => void;
    const early = new Promise<void>((r) => (commitEarly = r));
    let insertedLate!: () => void;
    const lateInserted = new Promise<void>((r) => (insertedLate = r));
    // The slow transaction takes the lower id …
    const slow = app.transaction(async (m) => {
      await store.addEventIn(m, 'SLOW', { n: 1 });
      insertedLate();
      await early;
    });
    await lateInserted;
    // … a fast one takes a higher id and commits first.
    await app.transaction((m) => store.addEventIn(m, 'FAST', { n: 2 }));
    const first = await store.poll('c');
    expect(first.map((e) => e.type)).toEqual(['FAST']);
    await store.poll('c', { lastId: first[0].id }); // acked
    commitEarly();
    await slow;
    const second = await store.poll('c');
    expect(second.map((e) => e.type)).toEqual(['SLOW']);
    expect(BigInt(second[0].id)).toBeGreaterThan(BigInt(first[0].id));
  });
});

eachServer('positions on $name', (driver) => {
  it('ids with gaps (rolled-back transactions) get consecutive positions in id order', async () => {
    const t = await driver.open();
    const app = await t.appDataSource();
    for (let i = 0; i < 60; i++) {
      await app
        .transaction(async (m) => {
          await t.store.addEventIn(m, 'G', i);
          if (i % 2 === 1) throw new Error('rolled back');
        })
        .catch(() => undefined);
    }
    expect(await t.store.sequence()).toBe(30); // 30 runs of one id: positions given row by row
    const events = await t.store.poll('LIVE', { limit: 100 });
    expect(events.map((e) => e.data)).toEqual(Array.from({ length: 30 }, (_, i) => 2 * i));
    const ids = events.map((e) => BigInt(e.id));
    expect(ids.slice(1).every((id, i) => id === ids[i] + 1n)).toBe(true);
  });
});

eachServer('8 concurrent writers on $name', (driver) => {
  it('a reliable consumer gets every event exactly once, in position order', async () => {
    const t = await driver.open();
    const { store } = t;
    const app = await t.appDataSource();
    const writers = 8;
    const perWriter = 40;
    const total = writers * perWriter;
    await store.registerConsumer('audit');
    const got = firstValueFrom(
      reliable$(store, 'audit', { pollInterval: 5, limit: 50 }).pipe(
        scan((acc: EventReceipt[], r) => {
          r.ack();
          return [...acc, r];
        }, []),
        filter((acc) => acc.length >= total),
      ),
    );
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let n = 0; n < perWriter; n++) {
          const before = Math.floor(random() * 4);
          const after = Math.floor(random() * 12);
          await app.transaction(async (m) => {
            await pause(before);
            await store.addEventIn(m, 'W', { w, n });
            await pause(after); // commit late, after others with higher ids
          });
        }
      }),
    );
    const received = await got;
    const keys = received.map((r) => `${(r.event.data as { w: number }).w}:${(r.event.data as { n: number }).n}`);
    expect(new Set(keys).size).toBe(total); // nothing skipped, nothing twice
    expect(keys).toHaveLength(total);
    for (let i = 1; i < received.length; i++) expect(BigInt(received[i].event.id)).toBeGreaterThan(BigInt(received[i - 1].event.id));
    // Per writer, events arrive in the order that writer committed them.
    for (let w = 0; w < writers; w++) {
      const ns = received.filter((r) => (r.event.data as { w: number }).w === w).map((r) => (r.event.data as { n: number }).n);
      expect(ns).toEqual(Array.from({ length: perWriter }, (_, i) => i));
    }
  }, 60_000);
});
