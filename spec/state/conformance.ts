// One behaviour every KeyValueStore must have, run against each store (memory, SQLite, and
// MariaDB/PostgreSQL/Redis when their servers are configured).
import type { KeyValueStore } from '../../lib/state/types';

/** Opens a fresh, empty store on the given clock; `second` opens another client of the same data. */
export interface StoreFixture {
  open(now: () => number): Promise<KeyValueStore>;
  /** Whether two stores from `open` share their data (they do for every real server and a SQLite file). */
  shared: boolean;
}

async function all<T>(it: AsyncIterable<[string, { value: T; version: number }]>): Promise<Array<[string, T, number]>> {
  const out: Array<[string, T, number]> = [];
  for await (const [k, v] of it) out.push([k, v.value, v.version]);
  return out;
}

export function storeConformance(fixture: () => StoreFixture): void {
  let clock = 0;
  const now = () => clock;
  let kv: KeyValueStore;
  const extra: KeyValueStore[] = [];

  beforeEach(async () => {
    clock = 1_000_000;
    kv = await fixture().open(now);
  });
  afterEach(async () => {
    await kv.close();
    for (const s of extra.splice(0)) await s.close();
  });

  it('reads nothing for a key never written', async () => {
    expect(await kv.get('absent')).toBeUndefined();
  });

  it('round-trips JSON values and counts versions from 1', async () => {
    const value = { n: 1.5, s: 'é ✓ "q"', a: [1, null, true], o: { deep: { x: -3 } } };
    await kv.put('v', value);
    expect(await kv.get('v')).toEqual({ value, version: 1 });
    await kv.put('v', 'second');
    expect(await kv.get('v')).toEqual({ value: 'second', version: 2 });
    await kv.put('n', null);
    expect(await kv.get('n')).toEqual({ value: null, version: 1 });
    await kv.put('ü/ключ:1', 7);
    expect(await kv.get('ü/ключ:1')).toEqual({ value: 7, version: 1 });
  });

  it('tells keys apart by case', async () => {
    await kv.put('Key', 1);
    await kv.put('key', 2);
    expect((await kv.get('Key'))?.value).toBe(1);
    expect((await kv.get('key'))?.value).toBe(2);
  });

  it('compare-and-set writes only at the expected version (0 = absent)', async () => {
    expect(await kv.compareAndSet('c', 1, 'x')).toBe(false);
    expect(await kv.get('c')).toBeUndefined();
    expect(await kv.compareAndSet('c', 0, 'a')).toBe(true);
    expect(await kv.compareAndSet('c', 0, 'b')).toBe(false);
    expect(await kv.compareAndSet('c', 2, 'b')).toBe(false);
    expect(await kv.compareAndSet('c', 1, 'b')).toBe(true);
    expect(await kv.get('c')).toEqual({ value: 'b', version: 2 });
  });

  it('deletes, after which the key is absent again', async () => {
    await kv.put('d', 1);
    await kv.put('d', 2);
    await kv.delete('d');
    expect(await kv.get('d')).toBeUndefined();
    await kv.delete('d'); // deleting an absent key is fine
    expect(await kv.compareAndSet('d', 0, 3)).toBe(true);
    expect(await kv.get('d')).toEqual({ value: 3, version: 1 });
  });

  it('lists the live entries under a prefix in key order, across pages', async () => {
    const keys = Array.from({ length: 1203 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    await kv.batch(keys.map((key, i) => ({ op: 'put' as const, key, value: i })));
    await kv.put('p', 'not under p/');
    await kv.put('o/x', 'before');
    await kv.put('q/x', 'after');
    await kv.delete('p/00005');
    const got = await all<number>(kv.list('p/'));
    expect(got.map(([k]) => k)).toEqual(keys.filter((k) => k !== 'p/00005'));
    expect(got[0]).toEqual(['p/00000', 0, 1]);
    expect(got[got.length - 1]).toEqual(['p/01202', 1202, 1]);
    expect(await all(kv.list('zzz/'))).toEqual([]);
  });

  it('applies a batch of puts and deletes all together', async () => {
    await kv.put('b1', 'old');
    await kv.put('b2', 'gone');
    expect(
      await kv.batch([
        { op: 'check', key: 'b1', version: 1 },
        { op: 'check', key: 'b3', version: 0 },
        { op: 'put', key: 'b1', value: 'new' },
        { op: 'delete', key: 'b2' },
        { op: 'put', key: 'b3', value: { made: true } },
      ]),
    ).toBe(true);
    expect(await kv.get('b1')).toEqual({ value: 'new', version: 2 });
    expect(await kv.get('b2')).toBeUndefined();
    expect(await kv.get('b3')).toEqual({ value: { made: true }, version: 1 });
  });

  it('writes nothing of a batch whose check fails', async () => {
    await kv.put('f1', 'keep');
    expect(
      await kv.batch([
        { op: 'put', key: 'f2', value: 'never' },
        { op: 'delete', key: 'f1' },
        { op: 'check', key: 'f1', version: 7 },
      ]),
    ).toBe(false);
    expect(await kv.get('f1')).toEqual({ value: 'keep', version: 1 });
    expect(await kv.get('f2')).toBeUndefined();
    expect(
      await kv.batch([
        { op: 'check', key: 'f1', version: 0 },
        { op: 'put', key: 'f2', value: 1 },
      ]),
    ).toBe(false);
    expect(await kv.get('f2')).toBeUndefined();
    expect(await kv.batch([])).toBe(true);
  });

  it('expires entries by the store clock: reads, lists and compare-and-set see them absent', async () => {
    await kv.put('t', 'short', { ttlMs: 1000 });
    await kv.put('t2', 'kept');
    await kv.batch([{ op: 'put', key: 't3', value: 'batch', ttlMs: 500 }]);
    clock += 499;
    expect((await kv.get('t3'))?.value).toBe('batch');
    clock += 1;
    expect(await kv.get('t3')).toBeUndefined();
    clock += 499;
    expect(await kv.get('t')).toEqual({ value: 'short', version: 1 });
    expect((await all(kv.list('t'))).map(([k]) => k)).toEqual(['t', 't2']);
    clock += 1;
    expect(await kv.get('t')).toBeUndefined();
    expect((await all(kv.list('t'))).map(([k]) => k)).toEqual(['t2']);
    expect(await kv.compareAndSet('t', 1, 'stale')).toBe(false);
    expect(await kv.batch([{ op: 'check', key: 't', version: 0 }])).toBe(true);
    expect(await kv.compareAndSet('t', 0, 'fresh')).toBe(true);
    expect(await kv.get('t')).toEqual({ value: 'fresh', version: 1 });
    clock += 1_000_000;
    expect(await kv.get('t')).toEqual({ value: 'fresh', version: 1 }); // no TTL this time
    await kv.put('t3', 'again');
    expect(await kv.get('t3')).toEqual({ value: 'again', version: 1 });
  });

  it('compare-and-set by parallel writers loses no increment', async () => {
    const f = fixture();
    const clients = [kv];
    if (f.shared) for (let i = 0; i < 2; i++) extra.push(await f.open(now));
    clients.push(...extra);
    const increment = async (c: KeyValueStore) => {
      for (;;) {
        const cur = await c.get<number>('counter');
        if (await c.compareAndSet('counter', cur?.version ?? 0, (cur?.value ?? 0) + 1)) return;
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(clients[i % clients.length])));
    expect(await kv.get('counter')).toEqual({ value: 30, version: 30 });
  }, 60_000);

  it('checked batches by parallel writers lose no increment', async () => {
    const f = fixture();
    const clients = [kv];
    if (f.shared) for (let i = 0; i < 2; i++) extra.push(await f.open(now));
    clients.push(...extra);
    const increment = async (c: KeyValueStore, i: number) => {
      for (;;) {
        const cur = await c.get<number>('bc');
        const ok = await c.batch([
          { op: 'check', key: 'bc', version: cur?.version ?? 0 },
          { op: 'put', key: 'bc', value: (cur?.value ?? 0) + 1 },
          { op: 'put', key: `bc-log/${i}`, value: cur?.version ?? 0 },
        ]);
        if (ok) return;
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => increment(clients[i % clients.length], i)));
    expect(await kv.get('bc')).toEqual({ value: 30, version: 30 });
    // Each winner saw a distinct version: no two batches committed on the same read.
    const seen = (await all<number>(kv.list('bc-log/'))).map(([, v]) => v).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
  }, 60_000);
}
