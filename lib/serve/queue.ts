import { TributaryError, errorMessage } from '../errors';

/* eslint-disable @typescript-eslint/no-require-imports -- sqlite3 loads only when a queue opens */

/** One item of a {@link DurableQueue}. */
export interface QueueItem {
  readonly id: number;
  /** The request body as received (JSON text). */
  readonly body: string;
  /** Failed attempts so far. */
  readonly attempts: number;
  /** When it was enqueued (ms since the epoch). */
  readonly enqueuedAt: number;
}

/** An item as the maintenance endpoints and the CLI list it. */
export interface QueueListing {
  id: number;
  attempts: number;
  enqueuedAt: number;
  ageMs: number;
  claimedAt?: number;
  lastError?: string;
  deadAt?: number;
}

/** The daemon serving a queue file (see {@link DurableQueue.takeOwnership}). */
export interface QueueOwner {
  /** Unique per daemon run (two daemons in one process differ by it). */
  readonly id: string;
  readonly pid: number;
  readonly host: string;
}

/** Whether a process of this host is alive (signal 0 probes without signalling). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of {@link DurableQueue.open}. */
export interface DurableQueueOptions {
  /** SQLite `synchronous` setting: `FULL` (default: the commit is fsynced before 202) or `NORMAL`. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Clock (ms); default `Date.now`. */
  now?: () => number;
}

type Db = {
  run(sql: string, params: unknown[], cb: (this: { changes: number }, err: Error | null) => void): void;
  all(sql: string, params: unknown[], cb: (err: Error | null, rows: Record<string, unknown>[]) => void): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
  close(cb: (err: Error | null) => void): void;
  configure(option: 'busyTimeout', value: number): void;
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  claimed_at INTEGER,
  not_before INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  dead_at INTEGER
);
CREATE INDEX IF NOT EXISTS queue_items_ready ON queue_items (dead_at, claimed_by, id);
CREATE TABLE IF NOT EXISTS queue_owner (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  owner TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL
);
CREATE VIEW IF NOT EXISTS dead_letters AS
  SELECT id, body, enqueued_at, attempts, last_error, dead_at FROM queue_items WHERE dead_at IS NOT NULL;
`;

/** Rows per INSERT statement of a group commit (well under SQLite's variable limit). */
const BATCH = 500;

/**
 * A durable work queue in one SQLite file (WAL journal, `synchronous=FULL` by default), the
 * store behind `tributary serve --durable-queue`. Every state change is one atomic statement:
 * {@link enqueue} resolves only after the row's commit returned (concurrent enqueues share
 * one commit, one fsync); {@link claim} marks ready items as taken by this process in a
 * single `UPDATE … RETURNING`; {@link complete} deletes; {@link fail} counts the failure and
 * either releases the item (after a retry delay) or marks it dead (the `dead_letters` view)
 * once it failed `maxAttempts` times. Claims left by a process that died are released by
 * {@link resetClaims}, which the daemon calls at start: every item not completed is replayed.
 *
 * @example
 * ```ts
 * const q = await DurableQueue.open('./queue.db');
 * const id = await q.enqueue('{"n":1}');
 * const [item] = await q.claim(10, 'worker');
 * await q.complete(item.id);
 * await q.close();
 * ```
 */
export class DurableQueue {
  private writes: { body: string; resolve: (id: number) => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private deletes: { id: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private deleting = false;

  private constructor(
    private readonly db: Db,
    readonly file: string,
    private readonly now: () => number,
  ) {}

  /** Opens (creating if needed) the queue in `file`. */
  static async open(file: string, options: DurableQueueOptions = {}): Promise<DurableQueue> {
    const sqlite3 = require('sqlite3') as { Database: new (f: string, cb: (err: Error | null) => void) => Db };
    const db = await new Promise<Db>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    }).catch((e: unknown) => {
      throw new TributaryError('BAD_OPTION', `--durable-queue ${file}: cannot open: ${errorMessage(e)}`);
    });
    db.configure('busyTimeout', 5000);
    const q = new DurableQueue(db, file, options.now ?? Date.now);
    const sync = options.synchronous ?? 'FULL';
    if (sync !== 'FULL' && sync !== 'NORMAL')
      throw new TributaryError('BAD_OPTION', `synchronous must be FULL or NORMAL, got ${String(sync)}`);
    await q.exec(`PRAGMA journal_mode=WAL; PRAGMA synchronous=${sync};${SCHEMA}`);
    return q;
  }

  private exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  private run(sql: string, params: unknown[]): Promise<number> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (err) {
        if (err) reject(err);
        else resolve(this.changes);
      }),
    );
  }

  private all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return new Promise((resolve, reject) => this.db.all(sql, params, (err, rows) => (err ? reject(err) : resolve(rows))));
  }

  /**
   * Stores one item; resolves with its id once the commit that holds it returned (with
   * `synchronous=FULL`, after the WAL was fsynced). Enqueues arriving while a commit is under way
   * go into the next one together.
   */
  enqueue(body: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.writes.push({ body, resolve, reject });
      if (!this.writing) void this.flushWrites();
    });
  }

  private async flushWrites(): Promise<void> {
    this.writing = true;
    try {
      while (this.writes.length > 0) {
        const batch = this.writes.splice(0, BATCH);
        const at = this.now();
        try {
          const rows = await this.all(
            `INSERT INTO queue_items (body, enqueued_at) VALUES ${batch.map(() => '(?, ?)').join(', ')} RETURNING id`,
            batch.flatMap((w) => [w.body, at]),
          );
          // RETURNING gives the rows in insertion order (one statement, AUTOINCREMENT ids ascending).
          const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
          batch.forEach((w, i) => w.resolve(ids[i]));
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Atomically takes up to `n` ready items (not dead, not claimed, past their retry delay),
   * oldest first, marking them claimed by `owner`.
   */
  async claim(n: number, owner: string): Promise<QueueItem[]> {
    if (n <= 0) return [];
    const now = this.now();
    const rows = await this.all(
      `UPDATE queue_items SET claimed_by = ?, claimed_at = ?
       WHERE id IN (SELECT id FROM queue_items WHERE dead_at IS NULL AND claimed_by IS NULL AND not_before <= ? ORDER BY id LIMIT ?)
       RETURNING id, body, attempts, enqueued_at`,
      [owner, now, now, n],
    );
    return rows
      .map((r) => ({ id: Number(r.id), body: String(r.body), attempts: Number(r.attempts), enqueuedAt: Number(r.enqueued_at) }))
      .sort((a, b) => a.id - b.id);
  }

  /** Deletes a processed item (deletes arriving together share one commit). */
  complete(id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.deletes.push({ id, resolve, reject });
      if (!this.deleting) void this.flushDeletes();
    });
  }

  private async flushDeletes(): Promise<void> {
    this.deleting = true;
    try {
      while (this.deletes.length > 0) {
        const batch = this.deletes.splice(0, BATCH);
        try {
          await this.run(
            `DELETE FROM queue_items WHERE id IN (${batch.map(() => '?').join(', ')})`,
            batch.map((d) => d.id),
          );
          for (const d of batch) d.resolve();
        } catch (e) {
          for (const d of batch) d.reject(e);
        }
      }
    } finally {
      this.deleting = false;
    }
  }

  /**
   * Records a failed attempt: the item is released to be retried after `retryDelayMs`, or
   * marked dead once it failed `maxAttempts` times. Resolves to what happened.
   */
  async fail(id: number, error: string, maxAttempts: number, retryDelayMs = 0): Promise<'retry' | 'dead'> {
    const now = this.now();
    const rows = await this.all(
      `UPDATE queue_items SET attempts = attempts + 1, claimed_by = NULL, claimed_at = NULL, last_error = ?, not_before = ?,
         dead_at = CASE WHEN attempts + 1 >= ? THEN ? ELSE NULL END
       WHERE id = ? RETURNING dead_at`,
      [error, now + retryDelayMs, maxAttempts, now, id],
    );
    return rows[0] && rows[0].dead_at !== null ? 'dead' : 'retry';
  }

  /**
   * Makes `me` the one daemon serving this file. Claims are only released ({@link resetClaims})
   * by the owner, so a second daemon started on a file another one serves must not start: it
   * would hand the first one's in-flight items to its own workers. Taken over when nobody owns
   * the file, when the owner's heartbeat is older than `leaseMs` (it died, on whatever host), or
   * at once when the owner was a process of this host that is gone (a `kill -9` restart does not
   * wait). The change is a compare-and-set on the row read, so two daemons starting together
   * cannot both win. Throws a `TributaryError` naming the owner otherwise.
   *
   * @example
   * ```ts
   * const me = { id: randomUUID(), pid: process.pid, host: os.hostname() };
   * await q.takeOwnership(me, 10_000);
   * setInterval(() => void q.renewOwnership(me).then((ok) => ok || stop()), 3_000);
   * ```
   */
  async takeOwnership(me: QueueOwner, leaseMs: number, alive: (pid: number) => boolean = pidAlive): Promise<void> {
    const now = this.now();
    const [cur] = await this.all('SELECT owner, pid, host, heartbeat_at FROM queue_owner WHERE id = 1', []);
    if (!cur) {
      const sql = 'INSERT OR IGNORE INTO queue_owner (id, owner, pid, host, heartbeat_at) VALUES (1, ?, ?, ?, ?)';
      if ((await this.run(sql, [me.id, me.pid, me.host, now])) === 1) return;
      throw this.inUse(undefined, now);
    }
    const owner = { id: String(cur.owner), pid: Number(cur.pid), host: String(cur.host), at: Number(cur.heartbeat_at) };
    const mine = owner.id === me.id;
    const gone = owner.host === me.host && !alive(owner.pid);
    if (!mine && !gone && now - owner.at < leaseMs) throw this.inUse(owner, now);
    const changed = await this.run(
      'UPDATE queue_owner SET owner = ?, pid = ?, host = ?, heartbeat_at = ? WHERE id = 1 AND owner = ? AND heartbeat_at = ?',
      [me.id, me.pid, me.host, now, owner.id, owner.at],
    );
    if (changed !== 1) throw this.inUse(undefined, now);
  }

  private inUse(owner: { pid: number; host: string; at: number } | undefined, now: number): TributaryError {
    const who = owner ? `pid ${owner.pid} on ${owner.host} (last heartbeat ${Math.max(0, now - owner.at)} ms ago)` : 'another daemon';
    return new TributaryError(
      'BAD_OPTION',
      `--durable-queue ${this.file}: in use by ${who}; one daemon serves a queue file (stop it first, or use another file)`,
    );
  }

  /** Refreshes `me`'s heartbeat; false when another daemon took the file over (stop claiming then). */
  async renewOwnership(me: QueueOwner): Promise<boolean> {
    const changed = await this.run('UPDATE queue_owner SET heartbeat_at = ? WHERE id = 1 AND owner = ?', [this.now(), me.id]);
    return changed === 1;
  }

  /** Gives the file up (at a clean stop), so the next daemon need not wait for the lease. */
  async releaseOwnership(me: QueueOwner): Promise<void> {
    await this.run('DELETE FROM queue_owner WHERE id = 1 AND owner = ?', [me.id]);
  }

  /** Releases every claim (those of a process that died); resolves to how many there were. */
  resetClaims(): Promise<number> {
    return this.run('UPDATE queue_items SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by IS NOT NULL', []);
  }

  /** Items waiting (not claimed), in flight (claimed) and dead. */
  async counts(): Promise<{ pending: number; inFlight: number; dead: number }> {
    const [r] = await this.all(
      `SELECT
         SUM(CASE WHEN dead_at IS NULL AND claimed_by IS NULL THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN dead_at IS NULL AND claimed_by IS NOT NULL THEN 1 ELSE 0 END) AS in_flight,
         SUM(CASE WHEN dead_at IS NOT NULL THEN 1 ELSE 0 END) AS dead
       FROM queue_items`,
      [],
    );
    return { pending: Number(r.pending ?? 0), inFlight: Number(r.in_flight ?? 0), dead: Number(r.dead ?? 0) };
  }

  /** Lists pending, in-flight or dead items, oldest first, with their ages. */
  async list(which: 'pending' | 'in-flight' | 'dead', limit = 100): Promise<QueueListing[]> {
    const where = {
      pending: 'dead_at IS NULL AND claimed_by IS NULL',
      'in-flight': 'dead_at IS NULL AND claimed_by IS NOT NULL',
      dead: 'dead_at IS NOT NULL',
    }[which];
    const rows = await this.all(
      `SELECT id, attempts, enqueued_at, claimed_at, last_error, dead_at FROM queue_items WHERE ${where} ORDER BY id LIMIT ?`,
      [limit],
    );
    const now = this.now();
    return rows.map((r) => ({
      id: Number(r.id),
      attempts: Number(r.attempts),
      enqueuedAt: Number(r.enqueued_at),
      ageMs: now - Number(r.enqueued_at),
      ...(r.claimed_at !== null ? { claimedAt: Number(r.claimed_at) } : {}),
      ...(r.last_error !== null ? { lastError: String(r.last_error) } : {}),
      ...(r.dead_at !== null ? { deadAt: Number(r.dead_at) } : {}),
    }));
  }

  /** Puts dead items back in the queue with their failures forgotten; `'all'` for every one. Resolves to how many. */
  requeue(ids: number[] | 'all'): Promise<number> {
    const reset = 'UPDATE queue_items SET dead_at = NULL, attempts = 0, not_before = 0, claimed_by = NULL, claimed_at = NULL';
    if (ids === 'all') return this.run(`${reset} WHERE dead_at IS NOT NULL`, []);
    if (ids.length === 0) return Promise.resolve(0);
    return this.run(`${reset} WHERE dead_at IS NOT NULL AND id IN (${ids.map(() => '?').join(', ')})`, ids);
  }

  /** Closes the file (after pending writes finished). */
  async close(): Promise<void> {
    while (this.writing || this.deleting) await new Promise((r) => setImmediate(r));
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}
