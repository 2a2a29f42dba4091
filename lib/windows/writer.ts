import type { Event } from '../event';
import { RingQueue } from '../operators/queue';
import { toUnit, type TimeUnit } from './sql';
import type { SerialQueue, WindowStore } from './store';
import type { PreparedRow, TableStatement, WindowTable } from './tables';

/** Most batches in flight at once (SQLite, single-statement batches). */
const PIPELINE = 4;

/** Most batches one flush takes (SQLite): other work of the queue waits no longer than that. */
const FLUSH_BATCHES = 32;

/** What a batch's write resolves to when it committed. */
const OK = Symbol('committed');
const ok = () => OK;
const failed = (e: unknown) => ({ error: e });

/** A batch of one flush: events `[start, start + size)`, their rows and each event's error. */
interface Batch {
  start: number;
  size: number;
  rows: PreparedRow[];
  /** The batch index (0 … size-1) of each row. */
  indexes: number[];
  results: unknown[];
  /** The batch's single INSERT (null: it needs a transaction), once asked. */
  statement?: TableStatement | null;
  /** Its write, once issued: OK or `{ error }`. */
  write?: Promise<unknown>;
}

/** Called once per written event: no error when its row is committed. */
export type WriteDone = (event: Event, error?: unknown) => void;

/** Options of a {@link BatchWriter}. */
export interface BatchWriterOptions {
  /** Most events in one transaction. */
  maxBatch: number;
  /** Fills this time column from the event time when the payload leaves it out. */
  time?: { column: string; unit: TimeUnit };
  /** Called after each committed transaction with how many rows it held (count windows trim here). */
  afterCommit?: (rows: number) => void;
}

/**
 * Group commit for a window: the first event starts a transaction on the window's serial
 * queue, and events arriving while it runs wait for the next one, so under load many events
 * share one transaction and a multi-row INSERT, while a lone event is written at once.
 * Nothing waits on a timer, so batching needs no clock and behaves the same under virtual time.
 *
 * On SQLite, when nothing runs after each commit, a batch that fits one statement
 * ({@link WindowTable.insertStatement}) is that statement alone, autocommitted, and a burst
 * keeps up to {@link PIPELINE} of them in flight: the driver writes one while this thread
 * prepares and binds the next. Each batch's events are handed on once it has committed, in
 * arrival order.
 *
 * A payload the table rejects fails alone. If the database rejects the batch, its rows are
 * retried one transaction each, so the good ones still commit and only the bad ones fail.
 *
 * @example
 * ```ts
 * const writer = new BatchWriter(store, store.serialQueue(), store.table('example_bets'), { maxBatch: 1000 });
 * writer.write(event, (e, err) => (err === undefined ? ctx.ack(e) : emit(ctx.fail(e, err))));
 * ```
 */
export class BatchWriter {
  // Two parallel queues rather than an object per event: under a burst every queued event
  // lives until its batch commits, and fewer long-lived objects means less garbage collection.
  private readonly queue = new RingQueue<Event>();
  private readonly dones = new RingQueue<WriteDone>();
  private scheduled = false;
  /**
   * Whether a flush may write several batches at once, one autocommitted multi-row INSERT
   * each: on SQLite (one connection, so the statements run in the order issued) and when no
   * one acts after each commit.
   */
  private readonly pipelined: boolean;

  constructor(
    private readonly store: WindowStore,
    private readonly serial: SerialQueue,
    private readonly table: WindowTable,
    private readonly options: BatchWriterOptions,
  ) {
    this.pipelined = store.dialect === 'sqlite' && !options.afterCommit && table.insertStatement !== undefined;
  }

  /**
   * Queues an event's payload for insertion; `done` is called after commit (or failure).
   *
   * @example
   * ```ts
   * writer.write(event, (e, err) => emit(err === undefined ? e : ctx.fail(e, err)));
   * ```
   */
  write(event: Event, done: WriteDone): void {
    this.queue.push(event);
    this.dones.push(done);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    void this.serial.run(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const { maxBatch } = this.options;
    const total = Math.min(this.queue.length, this.pipelined ? maxBatch * FLUSH_BATCHES : maxBatch);
    if (total === 0) return;
    const events: Event[] = new Array(total);
    const dones: WriteDone[] = new Array(total);
    for (let i = 0; i < total; i++) {
      events[i] = this.queue.shift()!;
      dones[i] = this.dones.shift()!;
    }
    if (this.queue.length > 0) this.schedule();

    // Batches of one statement are issued while up to PIPELINE - 1 others are in flight (one
    // prepared statement, so the driver runs them in the order issued): its thread writes
    // while this one prepares and binds the next and hands the committed ones on, in order.
    const inflight: Batch[] = [];
    let writing = 0;
    let sql: string | undefined;
    let held: Batch | undefined;
    let start = 0;
    while (start < total || held !== undefined || inflight.length > 0) {
      while (inflight.length < PIPELINE && (held !== undefined || start < total)) {
        let batch: Batch;
        if (held !== undefined) {
          batch = held;
          held = undefined;
        } else {
          batch = this.prepare(events, start, Math.min(maxBatch, total - start));
          start += batch.size;
        }
        if (batch.rows.length === 0) {
          inflight.push(batch); // nothing to write: handed on in its turn
          continue;
        }
        batch.statement ??= this.pipelined ? (this.table.insertStatement?.(batch.rows) ?? null) : null;
        if (batch.statement && (writing === 0 || batch.statement.sql === sql)) {
          sql = batch.statement.sql;
          writing++;
          batch.write = this.store.runStatement(batch.statement).then(ok, failed);
          inflight.push(batch);
          continue;
        }
        if (inflight.length > 0) {
          held = batch; // another statement, or a transaction: once the ones in flight are done
          break;
        }
        // Several statements (children, generated keys), or any batch off SQLite: one transaction.
        try {
          await this.store.transaction((m) => this.table.insert(m, batch.rows));
        } catch {
          await this.isolate(batch);
        }
        this.complete(batch, events, dones);
      }
      const batch = inflight.shift();
      if (batch === undefined) continue;
      if (batch.write !== undefined) {
        writing--;
        if ((await batch.write) !== OK) {
          // Nothing else may run inside the isolating transactions: let the rest settle first.
          await Promise.all(inflight.map((b) => b.write));
          await this.isolate(batch);
        }
      }
      this.complete(batch, events, dones);
    }
  }

  /** Turns the payloads of `events[start, start + size)` into rows; a rejected payload fails alone. */
  private prepare(events: Event[], start: number, size: number): Batch {
    const batch: Batch = { start, size, rows: [], indexes: [], results: new Array(size) };
    const { time } = this.options;
    for (let i = 0; i < size; i++) {
      const event = events[start + i];
      try {
        const fill = time ? { column: time.column, value: toUnit(event.meta.time, time.unit) } : undefined;
        batch.rows.push(this.table.prepare(event.payload, event, fill));
        batch.indexes.push(i);
      } catch (e) {
        batch.results[i] = e;
      }
    }
    return batch;
  }

  /** The database rejected the batch: its rows are written one transaction each, so only the bad ones fail. */
  private async isolate(batch: Batch): Promise<void> {
    for (let j = 0; j < batch.rows.length; j++) {
      try {
        await this.store.transaction((m) => this.table.insertEach(m, [batch.rows[j]]));
      } catch (e) {
        batch.results[batch.indexes[j]] = e;
      }
    }
  }

  /** Hands every event of a written batch on, in order. */
  private complete(batch: Batch, events: Event[], dones: WriteDone[]): void {
    let committed = 0;
    for (const i of batch.indexes) if (batch.results[i] === undefined) committed++;
    for (let i = 0; i < batch.size; i++) dones[batch.start + i](events[batch.start + i], batch.results[i]);
    if (committed > 0) this.options.afterCommit?.(committed);
  }

  /** Events queued and not yet written. */
  get queued(): number {
    return this.queue.length;
  }
}
