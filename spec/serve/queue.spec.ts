import * as path from 'node:path';
import { DurableQueue } from '../../lib/serve/queue';
import { tempDir } from './helpers';

/** The SQLite queue behind `serve --durable-queue`, on real files. */
describe('DurableQueue', () => {
  it('never hands one item to two claimers, even two processes on one file (atomic claim)', async () => {
    const file = path.join(tempDir(), 'q.db');
    const a = await DurableQueue.open(file);
    const b = await DurableQueue.open(file); // a second connection, as a second process would have
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => a.enqueue(JSON.stringify({ i }))));
      const taken: number[] = [];
      const claimer = async (q: DurableQueue, owner: string) => {
        for (;;) {
          const items = await q.claim(7, owner);
          if (items.length === 0) return;
          taken.push(...items.map((x) => x.id));
        }
      };
      await Promise.all([claimer(a, 'a'), claimer(b, 'b'), claimer(a, 'a2'), claimer(b, 'b2')]);
      expect(taken.length).toBe(300);
      expect(new Set(taken).size).toBe(300);
      expect(await a.counts()).toEqual({ pending: 0, inFlight: 300, dead: 0 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps what was enqueued across a reopen; claims of a dead process are released by resetClaims', async () => {
    const file = path.join(tempDir(), 'q.db');
    const q = await DurableQueue.open(file);
    const ids = await Promise.all(['{"a":1}', '{"a":2}', '{"a":3}'].map((b) => q.enqueue(b)));
    expect(ids).toEqual([1, 2, 3]);
    const [first] = await q.claim(1, 'old');
    await q.complete(first.id);
    await q.claim(1, 'old'); // in flight when the process "dies"
    await q.close();
    const again = await DurableQueue.open(file);
    try {
      expect(await again.counts()).toEqual({ pending: 1, inFlight: 1, dead: 0 });
      expect(await again.resetClaims()).toBe(1);
      const items = await again.claim(10, 'new');
      expect(items.map((i) => [i.id, i.body])).toEqual([
        [2, '{"a":2}'],
        [3, '{"a":3}'],
      ]);
    } finally {
      await again.close();
    }
  });

  it('retries a failed item after its delay and dead-letters it after maxAttempts; requeue brings it back', async () => {
    let now = 1_000;
    const q = await DurableQueue.open(path.join(tempDir(), 'q.db'), { now: () => now });
    try {
      const id = await q.enqueue('{}');
      await q.claim(1, 'w');
      expect(await q.fail(id, 'boom 1', 3, 500)).toBe('retry');
      expect(await q.claim(1, 'w')).toEqual([]); // not before its retry delay
      now += 500;
      expect((await q.claim(1, 'w')).map((i) => i.attempts)).toEqual([1]);
      expect(await q.fail(id, 'boom 2', 3, 0)).toBe('retry');
      await q.claim(1, 'w');
      expect(await q.fail(id, 'boom 3', 3, 0)).toBe('dead');
      expect(await q.claim(1, 'w')).toEqual([]);
      expect(await q.list('dead')).toEqual([{ id, attempts: 3, enqueuedAt: 1_000, ageMs: 500, lastError: 'boom 3', deadAt: 1_500 }]);
      expect(await q.requeue([id])).toBe(1);
      expect((await q.claim(1, 'w')).map((i) => [i.id, i.attempts])).toEqual([[id, 0]]);
    } finally {
      await q.close();
    }
  });

  it('keeps the queue in WAL mode (the journal readers and the committing writer share)', async () => {
    const file = path.join(tempDir(), 'q.db');
    const q = await DurableQueue.open(file);
    await q.close();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sqlite3 = require('sqlite3') as typeof import('sqlite3');
    const db = new sqlite3.Database(file);
    const mode = await new Promise<unknown>((resolve, reject) => db.get('PRAGMA journal_mode', (e, r) => (e ? reject(e) : resolve(r))));
    db.close();
    expect(mode).toEqual({ journal_mode: 'wal' });
  });
  describe('ownership: one daemon serves a queue file', () => {
    const me = { id: 'a', pid: 1001, host: 'h1' };
    const other = { id: 'b', pid: 2002, host: 'h1' };
    const alive = (live: number[]) => (pid: number) => live.includes(pid);

    it('refuses a second live owner, naming the one serving the file, and keeps the first', async () => {
      let now = 10_000;
      const file = path.join(tempDir(), 'q.db');
      const a = await DurableQueue.open(file, { now: () => now });
      const b = await DurableQueue.open(file, { now: () => now });
      try {
        await a.takeOwnership(me, 5_000, alive([1001, 2002]));
        now += 4_000; // within the lease: the first daemon is alive and serving
        await expect(b.takeOwnership(other, 5_000, alive([1001, 2002]))).rejects.toThrow(
          /in use by pid 1001 on h1 \(last heartbeat 4000 ms ago\); one daemon serves a queue file/,
        );
        expect(await a.renewOwnership(me)).toBe(true);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('takes over at once from a dead process of this host, and after the lease from any host', async () => {
      let now = 0;
      const file = path.join(tempDir(), 'q.db');
      const q = await DurableQueue.open(file, { now: () => now });
      try {
        await q.takeOwnership(me, 5_000, alive([1001]));
        // kill -9: pid 1001 is gone; its restart (a new pid on the same host) does not wait.
        await q.takeOwnership(other, 5_000, alive([2002]));
        expect(await q.renewOwnership(me)).toBe(false); // the old owner learns it lost the file
        expect(await q.renewOwnership(other)).toBe(true);
        // Another host cannot probe the pid: it waits out the lease.
        const remote = { id: 'c', pid: 7, host: 'h2' };
        now += 4_999;
        await expect(q.takeOwnership(remote, 5_000, alive([]))).rejects.toThrow(/in use by pid 2002 on h1/);
        now += 2;
        await q.takeOwnership(remote, 5_000, alive([]));
        expect(await q.renewOwnership(other)).toBe(false);
      } finally {
        await q.close();
      }
    });

    it('is free again at once after the owner released it at a clean stop', async () => {
      const file = path.join(tempDir(), 'q.db');
      const q = await DurableQueue.open(file, { now: () => 0 });
      try {
        await q.takeOwnership(me, 5_000, alive([1001, 2002]));
        await q.releaseOwnership(me);
        await q.takeOwnership(other, 5_000, alive([1001, 2002]));
        expect(await q.renewOwnership(other)).toBe(true);
      } finally {
        await q.close();
      }
    });
  });
});
