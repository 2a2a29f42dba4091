import type { DataSource, EntityManager } from 'typeorm';
import { Observable, Subject } from 'rxjs';
import { errorMessage, TributaryError } from '../errors';
import { shownUrl } from '../util/redact';
import { dialectOfType, eventStoreDataSourceOptions, idText, Sql, tableNames, type EventStoreDialect, type TableNames } from './dialect';
import { checkComponent, checkId, checkType, compareIds, encodeData, EventStoreError, type NewEvent, type StoredEvent } from './types';

/** How to open an {@link EventStore}. */
export interface EventStoreOptions {
  /**
   * Where the events live: `sqlite:./outbox.db` (default `sqlite::memory:`), `mysql://…`,
   * `mariadb://…`, `postgres://…` (`?schema=` for a schema). Ignored when `dataSource` is given.
   */
  url?: string;
  /** Your application's TypeORM DataSource: events then commit with your own transactions. */
  dataSource?: DataSource;
  /** Table name prefix (default `evt_`: `evt_queue`, `evt_consumers`, `evt_sequence`, `evt_history`). */
  prefix?: string;
  /** Create the tables if missing (default true). */
  createTables?: boolean;
  /** The clock stamping events (ms since the epoch); default `Date.now`. */
  now?: () => number;
}

/** Options of {@link EventStore.poll}. */
export interface PollOptions {
  /** Acknowledges every event up to this id (reliable consumers) / returns events after it (LIVE). */
  lastId?: string | bigint | number;
  /** Only these event types; a filtered poll that finds none moves the pointer past the others. */
  want?: readonly string[];
  /** Events at most (default 100, capped at 1000, as FTN18). */
  limit?: number;
}

/** A registered consumer and its pointer. */
export interface ConsumerInfo {
  component: string;
  /** The last acknowledged position (decimal string). */
  lastId: string;
  /** Registration and last poll, ms since the epoch. */
  registered: number;
  lastSeen: number;
}

/** FTN18's default events per poll. */
export const DEFAULT_CHUNK = 100;
/** FTN18's hard cap of events per poll. */
export const MAX_CHUNK = 1000;
/** Rows per INSERT statement (SQLite allows 999 parameters in old builds). */
const INSERT_ROWS = 300;
/** Positions assigned per sequencer step. */
const SEQUENCE_STEP = 1000;

/**
 * A transactional outbox with FTN18 semantics: events recorded in your own database
 * transaction (`addEventIn`) or alone (`addEvent`), delivered to registered consumers by
 * poll or as Observables (see `reliable$` and `live$` in `tributary/eventstore`).
 *
 * **Commit order.** An auto-increment id is allocated at insert but becomes visible at
 * commit, so ids commit out of order and a reader of `id > last` can skip a late commit. The
 * store therefore delivers by a *position* (`seq`) that a single sequencer step assigns to
 * committed rows only, under a lock, in one transaction: positions become visible in order,
 * so a consumer's `seq > last` never skips one. The event's `id` is that position.
 *
 * @example
 * ```ts
 * const store = await EventStore.open({ dataSource: appDb });
 * await appDb.transaction(async (m) => {
 *   await m.insert(Order, order);
 *   await store.addEventIn(m, 'ORDER_PLACED', { order: order.id, customer: order.customer });
 * });
 * await store.registerConsumer('billing');
 * const events = await store.poll('billing', { limit: 50 });
 * await store.poll('billing', { lastId: events.at(-1)?.id }); // acknowledges them, returns the next ones
 * ```
 */
export class EventStore {
  readonly dialect: EventStoreDialect;
  readonly tables: TableNames;
  readonly sql: Sql;
  private readonly appended = new Subject<void>();
  private readonly pending = new Set<Promise<unknown>>();
  private serial: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly queue: string;
  private closed = false;
  private readonly committing = new WeakSet<object>();

  private constructor(
    /** The DataSource your transactions run on (`addEventIn`'s manager comes from it). */
    readonly dataSource: DataSource,
    /** The DataSource the store polls and sequences on: its own connection for a SQLite file. */
    private readonly work: DataSource,
    private readonly owned: DataSource[],
    options: EventStoreOptions,
  ) {
    this.dialect = dialectOfType(dataSource.options.type);
    this.tables = tableNames(options.prefix ?? 'evt_');
    this.sql = new Sql(this.dialect);
    this.now = options.now ?? Date.now;
    this.queue = this.sql.id(this.tables.queue);
  }

  /**
   * Opens a store over your DataSource or a URL and creates its tables if missing.
   *
   * @example
   * ```ts
   * const store = await EventStore.open({ url: 'sqlite:./outbox.db' });
   * ```
   */
  static async open(options: EventStoreOptions = {}): Promise<EventStore> {
    // TypeORM loads on first use, so importing Tributary stays fast for networks without a store.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DataSource: TypeOrmDataSource } = require('typeorm') as typeof import('typeorm');
    const owned: DataSource[] = [];
    const where = options.url !== undefined ? shownUrl(options.url) : 'sqlite::memory:';
    const init = async (ds: DataSource) => {
      if (ds.isInitialized) return ds;
      try {
        await ds.initialize();
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `event store: cannot open '${where}': ${errorMessage(e)}`, { cause: e });
      }
      owned.push(ds);
      return ds;
    };
    const ds = await init(options.dataSource ?? new TypeOrmDataSource(eventStoreDataSourceOptions(options.url ?? 'sqlite::memory:')));
    let work = ds;
    const file = ds.options.type === 'sqlite' ? String(ds.options.database) : ':memory:';
    if (ds.options.type === 'sqlite' && file !== ':memory:' && file !== '') {
      // TypeORM gives SQLite one connection: a poll on it would read your open transaction's rows.
      // The store reads and sequences on a connection of its own to the same file.
      work = await init(new TypeOrmDataSource({ type: 'sqlite', database: file, enableWAL: true, busyTimeout: 10_000 }));
    }
    const store = new EventStore(ds, work, owned, options);
    if (options.createTables ?? true) await store.createTables();
    store.watchCommits();
    return store;
  }

  /**
   * Creates the queue, consumers and sequence tables if missing (`open` does it by default).
   *
   * @example
   * ```ts
   * await store.createTables();
   * ```
   */
  async createTables(): Promise<void> {
    for (const statement of this.sql.activeDdl(this.tables)) await this.run((m) => m.query(statement));
  }

  /** Wakes consumers when a transaction that recorded events commits. */
  private watchCommits(): void {
    const committing = this.committing;
    const appended = this.appended;
    this.commitWatcher = {
      afterTransactionCommit(event: { queryRunner: object }) {
        if (committing.has(event.queryRunner)) {
          committing.delete(event.queryRunner);
          appended.next();
        }
      },
    };
    this.dataSource.subscribers.push(this.commitWatcher as never);
  }

  private commitWatcher: object | undefined;

  /**
   * Fires after events were recorded (by this store object): consumers poll at once instead
   * of at their next interval. Another process's events are found by polling.
   *
   * @example
   * ```ts
   * store.appended$.subscribe(() => console.log('new events'));
   * ```
   */
  get appended$(): Observable<void> {
    return this.appended.asObservable();
  }

  /**
   * Tells local consumers that events were committed elsewhere (another process, raw SQL).
   *
   * @example
   * ```ts
   * store.notify();
   * ```
   */
  notify(): void {
    this.appended.next();
  }

  /** Runs store work; on SQLite (one connection) one statement group at a time. */
  private run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new TributaryError('STATE', 'event store: closed'));
    let p: Promise<T>;
    if (this.dialect === 'sqlite') {
      p = this.serial.then(() => fn(this.work.manager));
      this.serial = p.catch(() => undefined);
    } else {
      p = fn(this.work.manager);
    }
    return this.track(p);
  }

  /**
   * Tracks a promise: {@link close} waits for it.
   *
   * @example
   * ```ts
   * store.track(store.ack('billing', '42'));
   * ```
   */
  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  private insertSql(n: number): string {
    const row = `(?, ?, ${this.sql.big})`;
    return this.sql.text(`INSERT INTO ${this.queue} (type, data, ts) VALUES ${Array(n).fill(row).join(', ')}`);
  }

  private rowsOf(events: readonly NewEvent[]): unknown[][] {
    const ts = String(Math.floor(this.now()));
    return events.map((e) => {
      const type = checkType(e?.type);
      return [type, encodeData(type, e.data), ts];
    });
  }

  private async insertWith(m: EntityManager, rows: unknown[][]): Promise<void> {
    for (let i = 0; i < rows.length; i += INSERT_ROWS) {
      const chunk = rows.slice(i, i + INSERT_ROWS);
      await m.query(this.insertSql(chunk.length), chunk.flat());
    }
  }

  /**
   * Records one event in your transaction: it commits or rolls back with it.
   *
   * @example
   * ```ts
   * await ds.transaction(async (m) => {
   *   await m.query('insert into orders (id, customer) values (?, ?)', [7, 'c1']);
   *   await store.addEventIn(m, 'ORDER_PLACED', { order: 7, customer: 'c1' });
   * });
   * ```
   */
  async addEventIn(manager: EntityManager, type: string, data: unknown): Promise<void> {
    return this.addEventsIn(manager, [{ type, data }]);
  }

  /**
   * Records several events in your transaction (one INSERT per 300).
   *
   * @example
   * ```ts
   * await ds.transaction((m) => store.addEventsIn(m, [{ type: 'A', data: 1 }, { type: 'B', data: 2 }]));
   * ```
   */
  async addEventsIn(manager: EntityManager, events: readonly NewEvent[]): Promise<void> {
    const rows = this.rowsOf(events);
    if (rows.length === 0) return;
    if (manager.queryRunner) this.committing.add(manager.queryRunner);
    await this.insertWith(manager, rows);
  }

  /**
   * Records one event on its own (committed at once).
   *
   * @example
   * ```ts
   * await store.addEvent('USER_SIGNED_UP', { user: 42 });
   * ```
   */
  async addEvent(type: string, data: unknown): Promise<void> {
    return this.addEvents([{ type, data }]);
  }

  /**
   * Records several events at once, all or none.
   *
   * @example
   * ```ts
   * await store.addEvents(batch.map((b) => ({ type: 'BET_PLACED', data: b })));
   * ```
   */
  async addEvents(events: readonly NewEvent[]): Promise<void> {
    const rows = this.rowsOf(events);
    if (rows.length === 0) return;
    if (rows.length <= INSERT_ROWS) await this.run((m) => m.query(this.insertSql(rows.length), rows.flat()));
    else await this.run((m) => m.transaction((t) => this.insertWith(t, rows)));
    this.appended.next();
  }

  /**
   * Registers a reliable consumer (idempotent). Its pointer starts before the oldest event
   * kept. `LIVE` is reserved for unreliable delivery and refused.
   *
   * @example
   * ```ts
   * await store.registerConsumer('billing');
   * ```
   */
  async registerConsumer(component: string): Promise<void> {
    checkComponent(component);
    if (component === 'LIVE') throw new EventStoreError('LiveNotAllowed', "'LIVE' is reserved for unreliable delivery and cannot register");
    const now = String(this.now());
    const sql = this.sql.text(
      this.sql.insertIgnore(
        this.tables.consumers,
        ['ident', 'last_id', 'reg_time', 'last_time'],
        `(?, 0, ${this.sql.big}, ${this.sql.big})`,
      ),
    );
    await this.run((m) => m.query(sql, [component, now, now]));
  }

  /**
   * The registered consumers with their pointers.
   *
   * @example
   * ```ts
   * for (const c of await store.consumers()) console.log(c.component, c.lastId);
   * ```
   */
  async consumers(): Promise<ConsumerInfo[]> {
    const s = this.sql;
    const rows: Record<string, unknown>[] = await this.run((m) =>
      m.query(
        `SELECT ident, ${s.asText('last_id')} AS last_id, ${s.asText('reg_time')} AS reg_time, ${s.asText('last_time')} AS last_time FROM ${s.id(this.tables.consumers)} ORDER BY ident`,
      ),
    );
    return rows.map((r) => ({
      component: String(r.ident),
      lastId: idText(r.last_id),
      registered: Number(r.reg_time),
      lastSeen: Number(r.last_time),
    }));
  }

  /**
   * Assigns positions to committed events that have none yet, in id order, after every
   * position already given (see the class notes). Returns how many it assigned. `poll` runs
   * it; call it yourself only to measure or to drive a test.
   *
   * @example
   * ```ts
   * await store.sequence(); // 3: three newly committed events got positions
   * ```
   */
  async sequence(): Promise<number> {
    const s = this.sql;
    const q = this.queue;
    // SQLite has one writer at a time: a transaction holds the write lock from its first
    // insert to its commit, so rows commit in id order and the id is the position already.
    if (this.dialect === 'sqlite') return 0;
    const waiting: unknown[] = await this.run((m) => m.query(`SELECT 1 AS x FROM ${q} WHERE seq IS NULL LIMIT 1`));
    if (waiting.length === 0) return 0;
    return this.run((manager) =>
      manager.transaction('READ COMMITTED', async (m) => {
        // The sequence row's lock makes sequencer steps (of every process) one at a time; each
        // reads only committed rows, and commits its positions before the next step starts.
        const [row]: Record<string, unknown>[] = await m.query(
          `SELECT ${s.asText('last_seq')} AS s FROM ${s.id(this.tables.sequence)} WHERE id = 1 FOR UPDATE`,
        );
        if (!row) throw new TributaryError('STATE', `event store: table ${this.tables.sequence} has no row (created by createTables)`);
        const ids: Record<string, unknown>[] = await m.query(
          `SELECT ${s.asText('id')} AS rid FROM ${q} WHERE seq IS NULL ORDER BY id LIMIT ${SEQUENCE_STEP}`,
        );
        if (ids.length === 0) return 0;
        let next = BigInt(idText(row.s));
        const pairs = ids.map((r) => [idText(r.rid), (++next).toString()]);
        const runs = contiguousRuns(pairs.map((p) => BigInt(p[0])));
        if (runs.length <= 16) {
          // Ids usually come in runs (multi-row inserts, no rollbacks): every id of a run was
          // selected, so all are committed, and one UPDATE gives the run its positions.
          let at = BigInt(idText(row.s));
          for (const [from, to] of runs) {
            const delta = at + 1n - from;
            await m.query(s.text(`UPDATE ${q} SET seq = id + ${s.big} WHERE id >= ${s.big} AND id <= ${s.big}`), [
              delta.toString(),
              from.toString(),
              to.toString(),
            ]);
            at += to - from + 1n;
          }
        } else if (this.dialect === 'postgres') {
          await m.query(`UPDATE ${q} AS e SET seq = v.s FROM unnest($1::bigint[], $2::bigint[]) AS v(id, s) WHERE e.id = v.id`, [
            pairs.map((p) => p[0]),
            pairs.map((p) => p[1]),
          ]);
        } else {
          const cases = pairs.map(() => `WHEN ${s.big} THEN ${s.big}`).join(' ');
          await m.query(`UPDATE ${q} SET seq = CASE id ${cases} END WHERE id IN (${pairs.map(() => s.big).join(', ')})`, [
            ...pairs.flat(),
            ...pairs.map((p) => p[0]),
          ]);
        }
        await m.query(s.text(`UPDATE ${s.id(this.tables.sequence)} SET last_seq = ${s.big} WHERE id = 1`), [next.toString()]);
        return pairs.length;
      }),
    );
  }

  /**
   * The highest position assigned so far ('0' when none is kept).
   *
   * @example
   * ```ts
   * await store.lastPosition(); // '1042'
   * ```
   */
  async lastPosition(): Promise<string> {
    const rows: Record<string, unknown>[] = await this.run((m) =>
      m.query(`SELECT ${this.sql.asText(`MAX(${this.sql.position})`)} AS top FROM ${this.queue}`),
    );
    const top = rows[0]?.top;
    return top === null || top === undefined ? '0' : idText(top);
  }

  /**
   * Moves a consumer's pointer forward to `lastId` (never back) and marks it seen; returns
   * the pointer now stored. An unregistered consumer is refused (`NotRegistered`).
   *
   * @example
   * ```ts
   * await store.ack('billing', '42');
   * ```
   */
  async ack(component: string, lastId: string | bigint | number = '0'): Promise<string> {
    checkComponent(component);
    const id = checkId(lastId);
    const s = this.sql;
    const c = s.id(this.tables.consumers);
    const update = `UPDATE ${c} SET last_id = CASE WHEN last_id < ${s.big} THEN ${s.big} ELSE last_id END, last_time = ${s.big} WHERE ident = ?`;
    const params = [id, id, String(this.now()), component];
    const notRegistered = () =>
      new EventStoreError('NotRegistered', `consumer '${component}' is not registered (call registerConsumer first)`, 'STATE');
    return this.run(async (m) => {
      if (this.dialect === 'postgres') {
        // One round trip: the UPDATE answers with the pointer now stored.
        const r: unknown = await m.query(s.text(`${update} RETURNING ${s.asText('last_id')} AS p`), params);
        const rows = (Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r) as Record<string, unknown>[];
        if (!rows.length) throw notRegistered();
        return idText(rows[0].p);
      }
      await m.query(s.text(update), params);
      const rows: Record<string, unknown>[] = await m.query(s.text(`SELECT ${s.asText('last_id')} AS p FROM ${c} WHERE ident = ?`), [
        component,
      ]);
      if (rows.length === 0) throw notRegistered();
      return idText(rows[0].p);
    });
  }

  /**
   * FTN18's pollEvents. A reliable consumer (any registered name) first acknowledges
   * everything up to `lastId` — its pointer only moves forward — and gets the events after
   * its pointer; `LIVE` gets the events after `lastId` with no pointer. At most `limit`
   * (default 100, cap 1000), in position order. With `want`, only those types; a filtered
   * poll that finds none moves the pointer past the events it skipped.
   *
   * @example
   * ```ts
   * let last: string | undefined;
   * for (;;) {
   *   const events = await store.poll('billing', { lastId: last, want: ['ORDER_PLACED'] });
   *   for (const e of events) await bill(e);
   *   if (events.length) last = events[events.length - 1].id;
   * }
   * ```
   */
  async poll(component: string, options: PollOptions = {}): Promise<StoredEvent[]> {
    checkComponent(component);
    const limit = Math.min(MAX_CHUNK, Math.max(1, Math.floor(options.limit ?? DEFAULT_CHUNK)));
    if (options.limit !== undefined && !(Number.isFinite(options.limit) && options.limit >= 1)) {
      throw new EventStoreError('InvalidId', `limit ${String(options.limit)} must be a positive integer`);
    }
    const want = options.want ? [...new Set(options.want.map(checkType))] : undefined;
    const live = component === 'LIVE';
    const given = checkId(options.lastId ?? '0');
    await this.sequence();
    const pointer = live ? given : await this.ack(component, given);
    // Sequencer steps commit in order, so one statement never sees a position without all
    // those before it: `> pointer` alone is safe. A filtered poll bounds itself by `top`, read
    // first, so that finding nothing up to it lets the pointer move there.
    const filtered = !!(want && want.length);
    const top = filtered ? await this.lastPosition() : undefined;
    if (top !== undefined && compareIds(top, pointer) <= 0) return [];
    const s = this.sql;
    const filter = filtered ? ` AND type IN (${want!.map(() => '?').join(', ')})` : '';
    const bound = top !== undefined ? ` AND ${s.position} <= ${s.big}` : '';
    const rows: Record<string, unknown>[] = await this.run((m) =>
      m.query(
        s.text(
          `SELECT ${s.asText(s.position)} AS pos, type, ${s.asText('data')} AS data, ${s.asText('ts')} AS ts FROM ${this.queue} ` +
            `WHERE ${s.position} > ${s.big}${bound}${filter} ORDER BY ${s.position} LIMIT ${limit}`,
        ),
        [pointer, ...(top !== undefined ? [top] : []), ...(want ?? [])],
      ),
    );
    if (rows.length === 0 && top !== undefined && !live) await this.ack(component, top);
    return rows.map(toEvent);
  }

  /**
   * Deletes up to `limit` events every registered consumer has passed (position at most the
   * lowest pointer), oldest first; returns how many. With no consumer registered nothing is
   * deleted (FTN18). Call it in a loop, or use {@link EventDiscarder}.
   *
   * @example
   * ```ts
   * while ((await store.discard(1000)) > 0);
   * ```
   */
  async discard(limit = 1000): Promise<number> {
    const s = this.sql;
    const n = Math.max(1, Math.floor(limit));
    return this.run(async (m) => {
      const [row]: Record<string, unknown>[] = await m.query(
        `SELECT ${s.asText('MIN(last_id)')} AS low FROM ${s.id(this.tables.consumers)}`,
      );
      if (!row || row.low === null || row.low === undefined) return 0;
      const ids: Record<string, unknown>[] = await m.query(
        s.text(`SELECT ${s.asText('id')} AS rid FROM ${this.queue} WHERE ${s.position} <= ${s.big} ORDER BY ${s.position} LIMIT ${n}`),
        [idText(row.low)],
      );
      if (ids.length === 0) return 0;
      const list = ids.map((r) => idText(r.rid));
      await m.query(s.text(`DELETE FROM ${this.queue} WHERE id IN (${list.map(() => s.big).join(', ')})`), list);
      return list.length;
    });
  }

  /**
   * Unregisters consumers not seen (no poll, no ack) for `olderThanMs`, so a dead one does not
   * hold the discarder back forever; returns their names.
   *
   * @example
   * ```ts
   * await store.expireConsumers(7 * 24 * 3600_000); // ['old-report-job']
   * ```
   */
  async expireConsumers(olderThanMs: number): Promise<string[]> {
    const s = this.sql;
    const c = s.id(this.tables.consumers);
    const before = String(Math.floor(this.now() - olderThanMs));
    return this.run(async (m) => {
      const rows: Record<string, unknown>[] = await m.query(s.text(`SELECT ident FROM ${c} WHERE last_time < ${s.big}`), [before]);
      const names = rows.map((r) => String(r.ident));
      // `last_time` again: one that polled meanwhile stays.
      if (names.length) {
        await m.query(s.text(`DELETE FROM ${c} WHERE ident IN (${names.map(() => '?').join(', ')}) AND last_time < ${s.big}`), [
          ...names,
          before,
        ]);
      }
      return names;
    });
  }

  /**
   * How many events are kept (not yet discarded).
   *
   * @example
   * ```ts
   * await store.count(); // 1200
   * ```
   */
  async count(): Promise<number> {
    const rows: Record<string, unknown>[] = await this.run((m) => m.query(`SELECT COUNT(*) AS n FROM ${this.queue}`));
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Waits for the store's outstanding work, then closes what it opened (not your DataSource).
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.pending.size) await Promise.allSettled([...this.pending]);
    this.closed = true;
    this.appended.complete();
    const subscribers = this.dataSource.subscribers as unknown[];
    const at = subscribers.indexOf(this.commitWatcher);
    if (at >= 0) subscribers.splice(at, 1);
    for (const ds of this.owned.reverse()) if (ds.isInitialized) await ds.destroy();
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }
}

/** Sorted ids as [first, last] runs of consecutive values. */
function contiguousRuns(ids: bigint[]): [bigint, bigint][] {
  const runs: [bigint, bigint][] = [];
  for (const id of ids) {
    const last = runs[runs.length - 1];
    if (last && id === last[1] + 1n) last[1] = id;
    else runs.push([id, id]);
  }
  return runs;
}

function toEvent(r: Record<string, unknown>): StoredEvent {
  const data = typeof r.data === 'string' ? (JSON.parse(r.data) as unknown) : r.data;
  return { id: idText(r.pos), type: String(r.type), data, ts: new Date(Number(r.ts)).toISOString() };
}
