import type { DataSource } from 'typeorm';
import { asyncScheduler, Observable, Subject, type SchedulerLike } from 'rxjs';
import { errorMessage, TributaryError } from '../errors';
import { shownUrl } from '../util/redact';
import { dialectOfType, eventStoreDataSourceOptions, idText, Sql, tableNames } from './dialect';
import type { EventStore } from './store';
import { compareIds, type StoredEvent } from './types';

/** What the housekeepers report after each step (and on a failure). */
export type HousekeepingProgress =
  | { kind: 'archived'; count: number; lastId: string }
  | { kind: 'discarded'; count: number }
  | { kind: 'expired'; consumers: string[] }
  | { kind: 'error'; message: string };

/** Counters of a housekeeper, for metrics. */
export interface HousekeepingStats {
  /** Events archived or discarded so far. */
  events: number;
  /** Batches written or deleted so far. */
  batches: number;
  /** Consumers expired so far (discarder). */
  expired: number;
  errors: number;
  /** The last archived position (archiver). */
  lastId: string;
}

/** A loop on the scheduler: a step, then a pause unless the step had more to do. */
abstract class Housekeeper {
  protected readonly progress = new Subject<HousekeepingProgress>();
  readonly stats: HousekeepingStats = { events: 0, batches: 0, expired: 0, errors: 0, lastId: '0' };
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;

  constructor(
    protected readonly store: EventStore,
    private readonly interval: number,
    private readonly scheduler: SchedulerLike,
  ) {}

  /** Progress of each step; completes at `stop()`. */
  get progress$(): Observable<HousekeepingProgress> {
    return this.progress.asObservable();
  }

  /** One step; true when there is more to do at once. */
  abstract step(): Promise<boolean>;

  /** Starts the loop (idempotent). */
  start(): this {
    this.running ??= this.loop();
    return this;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      let more = false;
      try {
        more = await this.step();
        failures = 0;
      } catch (e) {
        if (this.stopped) break;
        this.stats.errors++;
        failures++;
        this.progress.next({ kind: 'error', message: errorMessage(e) });
      }
      if (!more && !this.stopped) await this.pause(failures ? Math.min(60_000, 500 * 2 ** failures) : this.interval);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const h = this.scheduler.schedule(() => resolve(), ms);
      this.wakeUp = () => {
        h.unsubscribe();
        resolve();
      };
    });
  }

  /** Stops after the step under way; completes `progress$`. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
    this.progress.complete();
  }
}

/** Options of {@link EventArchiver}. */
export interface ArchiverOptions {
  /** The history database: a URL or a DataSource (default: the store's own database). */
  history?: string | DataSource;
  /** History table prefix (default: the store's; the table is `<prefix>history`). */
  prefix?: string;
  /** The reliable consumer name (default `ARCHIVER`). */
  component?: string;
  /** Events per batch (default 1000). */
  batch?: number;
  /** Pause when nothing is left to archive (default 1 s). */
  interval?: number;
  scheduler?: SchedulerLike;
}

/**
 * Copies the stream to a history table (FTN18's `evt_history`) as a reliable consumer, in
 * batches: each batch is written in one transaction, then acknowledged. It is idempotent by
 * the last archived id: after a crash between the write and the ack, the events that come
 * again are already there and are skipped. As a registered consumer it also keeps the
 * discarder from deleting what it has not archived yet.
 *
 * @example
 * ```ts
 * const archiver = await EventArchiver.open(store, { history: 'postgres://dwh@db/history' });
 * archiver.progress$.subscribe((p) => console.log(p));
 * archiver.start();
 * // … later
 * await archiver.stop();
 * ```
 */
export class EventArchiver extends Housekeeper {
  private pendingAck: string | undefined;

  private constructor(
    store: EventStore,
    private readonly target: DataSource,
    private readonly owned: boolean,
    private readonly sql: Sql,
    private readonly table: string,
    readonly component: string,
    private readonly batch: number,
    interval: number,
    scheduler: SchedulerLike,
  ) {
    super(store, interval, scheduler);
  }

  /**
   * Opens the history database, creates its table, registers the consumer and reads the
   * last archived id.
   *
   * @example
   * ```ts
   * const archiver = await EventArchiver.open(store);
   * ```
   */
  static async open(store: EventStore, options: ArchiverOptions = {}): Promise<EventArchiver> {
    let target: DataSource;
    let owned = false;
    if (typeof options.history === 'string') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { DataSource: TypeOrmDataSource } = require('typeorm') as typeof import('typeorm');
      target = new TypeOrmDataSource(eventStoreDataSourceOptions(options.history));
      try {
        await target.initialize();
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `event archiver: cannot open '${shownUrl(options.history)}': ${errorMessage(e)}`, {
          cause: e,
        });
      }
      owned = true;
    } else target = options.history ?? store.dataSource;
    if (!target.isInitialized) await target.initialize();
    const sql = new Sql(dialectOfType(target.options.type));
    const tables = tableNames(options.prefix ?? store.tables.queue.slice(0, -'queue'.length));
    for (const statement of sql.historyDdl(tables)) await target.query(statement);
    const component = options.component ?? 'ARCHIVER';
    await store.registerConsumer(component);
    const a = new EventArchiver(
      store,
      target,
      owned,
      sql,
      tables.history,
      component,
      Math.min(1000, options.batch ?? 1000),
      options.interval ?? 1000,
      options.scheduler ?? asyncScheduler,
    );
    const [row]: Record<string, unknown>[] = await target.query(`SELECT ${sql.asText('MAX(id)')} AS top FROM ${sql.id(tables.history)}`);
    a.stats.lastId = row?.top === null || row?.top === undefined ? '0' : idText(row.top);
    return a;
  }

  /**
   * Archives one batch; true when a full batch was found (there may be more).
   *
   * @example
   * ```ts
   * while (await archiver.step());
   * ```
   */
  async step(): Promise<boolean> {
    const events = await this.store.poll(this.component, { lastId: this.pendingAck, limit: this.batch });
    this.pendingAck = undefined;
    if (events.length === 0) return false;
    const fresh = events.filter((e) => compareIds(e.id, this.stats.lastId) > 0);
    if (fresh.length) await this.write(fresh);
    const last = events[events.length - 1].id;
    this.pendingAck = last;
    await this.store.ack(this.component, last);
    this.pendingAck = undefined;
    this.stats.events += fresh.length;
    this.stats.batches++;
    this.stats.lastId = compareIds(last, this.stats.lastId) > 0 ? last : this.stats.lastId;
    this.progress.next({ kind: 'archived', count: fresh.length, lastId: this.stats.lastId });
    return events.length === this.batch;
  }

  private async write(events: StoredEvent[]): Promise<void> {
    const s = this.sql;
    await this.target.transaction(async (m) => {
      for (let i = 0; i < events.length; i += 250) {
        const chunk = events.slice(i, i + 250);
        const values = chunk.map(() => `(${s.big}, ?, ?, ${s.big})`).join(', ');
        await m.query(
          s.text(s.insertIgnore(this.table, ['id', 'type', 'data', 'ts'], values)),
          chunk.flatMap((e) => [e.id, e.type, JSON.stringify(e.data), String(Date.parse(e.ts))]),
        );
      }
    });
  }

  /** Stops and closes the history database if it opened it. */
  override async stop(): Promise<void> {
    await super.stop();
    if (this.owned && this.target.isInitialized) await this.target.destroy();
  }
}

/** Options of {@link EventDiscarder}. */
export interface DiscarderOptions {
  /** Events deleted per statement (default 1000): short transactions for busy databases. */
  batch?: number;
  /** Pause when nothing is left to delete (default 10 min, FTN18's poll period). */
  interval?: number;
  /** Unregister consumers not seen for this long (ms) before each round; default never. */
  expireAfter?: number;
  scheduler?: SchedulerLike;
}

/**
 * Deletes events every registered consumer has passed, in bounded batches, and optionally
 * expires consumers not seen for `expireAfter` so a dead one does not block it forever.
 *
 * @example
 * ```ts
 * const discarder = new EventDiscarder(store, { batch: 500, expireAfter: 7 * 24 * 3600_000 }).start();
 * discarder.progress$.subscribe((p) => p.kind === 'discarded' && console.log(`discarded ${p.count}`));
 * ```
 */
export class EventDiscarder extends Housekeeper {
  private readonly batch: number;
  private readonly expireAfter: number | undefined;

  constructor(store: EventStore, options: DiscarderOptions = {}) {
    super(store, options.interval ?? 600_000, options.scheduler ?? asyncScheduler);
    this.batch = Math.max(1, options.batch ?? 1000);
    this.expireAfter = options.expireAfter;
  }

  /**
   * Expires stale consumers (if configured) and deletes one batch; true when the batch was full.
   *
   * @example
   * ```ts
   * while (await discarder.step());
   * ```
   */
  async step(): Promise<boolean> {
    if (this.expireAfter !== undefined) {
      const gone = await this.store.expireConsumers(this.expireAfter);
      if (gone.length) {
        this.stats.expired += gone.length;
        this.progress.next({ kind: 'expired', consumers: gone });
      }
    }
    const n = await this.store.discard(this.batch);
    if (n > 0) {
      this.stats.events += n;
      this.stats.batches++;
      this.progress.next({ kind: 'discarded', count: n });
    }
    return n === this.batch;
  }
}
