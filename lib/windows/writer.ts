import type { Event } from '../event';
import { RingQueue } from '../operators/queue';
import { toUnit, type TimeUnit } from './sql';
import type { SerialQueue, WindowStore } from './store';
import type { PreparedRow, WindowTable } from './tables';

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

  constructor(
    private readonly store: WindowStore,
    private readonly serial: SerialQueue,
    private readonly table: WindowTable,
    private readonly options: BatchWriterOptions,
  ) {}

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
    const size = Math.min(this.queue.length, this.options.maxBatch);
    if (size === 0) return;
    const events: Event[] = new Array(size);
    const dones: WriteDone[] = new Array(size);
    for (let i = 0; i < size; i++) {
      events[i] = this.queue.shift()!;
      dones[i] = this.dones.shift()!;
    }
    if (this.queue.length > 0) this.schedule();

    const results: (unknown | undefined)[] = new Array(size);
    const rows: PreparedRow[] = [];
    const indexes: number[] = [];
    const { time } = this.options;
    for (let i = 0; i < size; i++) {
      const event = events[i];
      try {
        const fill = time ? { column: time.column, value: toUnit(event.meta.time, time.unit) } : undefined;
        rows.push(this.table.prepare(event.payload, event, fill));
        indexes.push(i);
      } catch (e) {
        results[i] = e;
      }
    }
    if (rows.length > 0) {
      try {
        await this.store.transaction((m) => this.table.insert(m, rows));
      } catch {
        // Isolate the rows the database rejects; the rest commit one by one.
        for (let j = 0; j < rows.length; j++) {
          try {
            await this.store.transaction((m) => this.table.insertEach(m, [rows[j]]));
          } catch (e) {
            results[indexes[j]] = e;
          }
        }
      }
    }
    let committed = 0;
    for (const i of indexes) if (results[i] === undefined) committed++;
    for (let i = 0; i < size; i++) dones[i](events[i], results[i]);
    if (committed > 0) this.options.afterCommit?.(committed);
  }

  /** Events queued and not yet written. */
  get queued(): number {
    return this.queue.length;
  }
}
