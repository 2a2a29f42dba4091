import { asyncScheduler, Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { createDelivery, type Delivery, type Settlement } from '../delivery';
import { errorMessage } from '../errors';
import type { EventStore } from './store';
import { checkComponent, checkId, checkType, compareIds, type StoredEvent } from './types';

/**
 * One delivered event and its settle handle: ack when its work is done, nack to have it
 * delivered again (reliable) — nothing is acknowledged to the store before that.
 */
export interface EventReceipt {
  readonly event: StoredEvent;
  /** Live delivery only: events dropped just before this one because the queue overflowed. */
  readonly dropped: number;
  readonly delivery: Delivery;
  ack(): void;
  nack(reason?: unknown): void;
}

/** Options shared by {@link reliable$} and {@link live$}. */
export interface ConsumeOptions {
  /** Only these event types. */
  want?: readonly string[];
  /** Events per poll (default 100, cap 1000). */
  limit?: number;
  /** How often to look for events committed by others (default 250 ms); local commits wake it at once. */
  pollInterval?: number;
  /** Where time comes from (waits between polls and retries). */
  scheduler?: SchedulerLike;
  /** Where failed polls are reported (default: console). */
  onError?: (error: unknown) => void;
}

/** Options of {@link reliable$}. */
export interface ReliableOptions extends ConsumeOptions {
  /** First delay before a nacked batch is delivered again, doubled per retry up to 30 s (default 500 ms). */
  retryDelay?: number;
  /** Register the consumer first (default true). */
  register?: boolean;
}

/** Options of {@link live$}. */
export interface LiveOptions extends ConsumeOptions {
  /** Events emitted and not yet settled, at most (default 100). */
  maxInFlight?: number;
  /** Events waiting for a free slot, at most; beyond it the oldest is dropped (default 1000). */
  queue?: number;
  /** Start after this position instead of at the end of the stream. */
  from?: string | bigint | number;
  /** Called once with the position live delivery starts after. */
  onStart?: (position: string) => void;
}

function receipt(event: StoredEvent, dropped: number, onSettle: (s: Settlement) => void): EventReceipt {
  const delivery = createDelivery(onSettle);
  return { event, dropped, delivery, ack: () => delivery.ack(), nack: (r?: unknown) => delivery.nack(r) };
}

/** Sleeps on the scheduler; a wake-up (new local events, unsubscribe) ends it early. */
class Waiter {
  private wakeUp: (() => void) | undefined;
  private woken = false;
  constructor(private readonly scheduler: SchedulerLike) {}
  wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }
  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const h = this.scheduler.schedule(() => this.wake(), ms);
      this.wakeUp = () => {
        h.unsubscribe();
        this.woken = false;
        resolve();
      };
    });
  }
}

const report = (options: ConsumeOptions) => options.onError ?? ((e: unknown) => console.error(`event store consumer: ${errorMessage(e)}`));

/**
 * Reliable delivery as an Observable: replays the events after the consumer's stored pointer,
 * then follows new ones. One batch is in flight at a time; when every event of it is settled
 * the pointer moves to the last event of the acked prefix (recorded by the next poll), and if
 * one was nacked the batch is delivered again from it after a back-off. Nothing is skipped
 * and, after a crash, at most the unacknowledged part of one batch comes again.
 *
 * @example
 * ```ts
 * reliable$(store, 'billing', { want: ['ORDER_PLACED'] }).subscribe(async (r) => {
 *   try { await bill(r.event.data); r.ack(); } catch (e) { r.nack(e); }
 * });
 * ```
 */
export function reliable$(store: EventStore, component: string, options: ReliableOptions = {}): Observable<EventReceipt> {
  checkComponent(component);
  options.want?.forEach(checkType);
  const scheduler = options.scheduler ?? asyncScheduler;
  const interval = options.pollInterval ?? 250;
  const onError = report(options);
  return new Observable<EventReceipt>((subscriber) => {
    const waiter = new Waiter(scheduler);
    let stopped = false;
    const woken = store.appended$.subscribe(() => waiter.wake());
    let unsettled: (() => void) | undefined;
    const loop = async () => {
      let failures = 0;
      while (!stopped) {
        try {
          if (options.register ?? true) await store.registerConsumer(component);
          break;
        } catch (e) {
          onError(e);
          await waiter.sleep(backoff(failures++, 500));
        }
      }
      let acked: string | undefined;
      failures = 0;
      let nacks = 0;
      while (!stopped) {
        let batch: StoredEvent[];
        try {
          batch = await store.poll(component, { lastId: acked, want: options.want, limit: options.limit });
          acked = undefined; // recorded
          failures = 0;
        } catch (e) {
          if (stopped || store.isClosed) break;
          onError(e);
          await waiter.sleep(backoff(failures++, 500));
          continue;
        }
        if (batch.length === 0) {
          await waiter.sleep(interval);
          continue;
        }
        const outcome = await deliverBatch(subscriber, batch, (cancel) => (unsettled = cancel));
        unsettled = undefined;
        if (outcome.lastAcked !== undefined) acked = outcome.lastAcked;
        if (outcome.failed) {
          await waiter.sleep(backoff(nacks++, options.retryDelay ?? 500));
        } else nacks = 0;
        if (outcome.cancelled) break;
      }
      // Unsubscribed: record what was acked so far (the store's close waits for it).
      if (acked !== undefined && !store.isClosed) {
        await store.track(store.ack(component, acked)).catch((e: unknown) => onError(e));
      }
    };
    void loop().catch((e: unknown) => onError(e));
    return () => {
      stopped = true;
      woken.unsubscribe();
      waiter.wake();
      unsettled?.();
    };
  });
}

interface BatchOutcome {
  /** The last event of the acked prefix. */
  lastAcked?: string;
  failed: boolean;
  cancelled: boolean;
}

/** Emits a batch and resolves once all of it is settled (or the subscriber left). */
function deliverBatch(
  subscriber: Subscriber<EventReceipt>,
  batch: StoredEvent[],
  onCancel: (cancel: () => void) => void,
): Promise<BatchOutcome> {
  return new Promise<BatchOutcome>((resolve) => {
    const acked: boolean[] = new Array<boolean>(batch.length).fill(false);
    let open = batch.length;
    let failed = false;
    let done = false;
    const finish = (cancelled: boolean) => {
      if (done) return;
      done = true;
      let i = 0;
      while (i < batch.length && acked[i]) i++;
      resolve({ lastAcked: i > 0 ? batch[i - 1].id : undefined, failed, cancelled });
    };
    onCancel(() => finish(true));
    batch.forEach((event, i) => {
      if (done) return;
      subscriber.next(
        receipt(event, 0, (s) => {
          if (s.acked) acked[i] = true;
          else failed = true;
          if (--open === 0) finish(false);
        }),
      );
    });
  });
}

function backoff(attempt: number, initial: number): number {
  return Math.min(30_000, initial * 2 ** Math.min(attempt, 16));
}

/**
 * Live (unreliable) delivery as an Observable: events committed after the subscription, with
 * no stored pointer. At most `maxInFlight` are unsettled; further ones wait in a queue of
 * `queue`, and when it is full the oldest waiting event is dropped: the next event emitted
 * carries `dropped` (how many were lost just before it), and its id jumps, so a consumer
 * sees the gap.
 *
 * @example
 * ```ts
 * live$(store, { want: ['PRICE_CHANGED'], queue: 100 }).subscribe((r) => {
 *   if (r.dropped) console.warn(`missed ${r.dropped} price changes`);
 *   show(r.event.data);
 *   r.ack();
 * });
 * ```
 */
export function live$(store: EventStore, options: LiveOptions = {}): Observable<EventReceipt> {
  options.want?.forEach(checkType);
  const scheduler = options.scheduler ?? asyncScheduler;
  const interval = options.pollInterval ?? 250;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 100);
  const capacity = Math.max(1, options.queue ?? 1000);
  const onError = report(options);
  return new Observable<EventReceipt>((subscriber) => {
    const waiter = new Waiter(scheduler);
    let stopped = false;
    const woken = store.appended$.subscribe(() => waiter.wake());
    const queue: StoredEvent[] = [];
    let dropped = 0;
    let inFlight = 0;
    const pump = () => {
      while (!stopped && inFlight < maxInFlight && queue.length) {
        const event = queue.shift()!;
        const gap = dropped;
        dropped = 0;
        inFlight++;
        subscriber.next(
          receipt(event, gap, () => {
            inFlight--;
            pump();
          }),
        );
      }
    };
    const loop = async () => {
      let last: string | undefined;
      let failures = 0;
      while (!stopped) {
        try {
          if (last === undefined) {
            if (options.from !== undefined) last = checkId(options.from, 'from');
            else {
              await store.sequence();
              last = await store.lastPosition();
            }
            options.onStart?.(last);
          }
          const events = await store.poll('LIVE', { lastId: last, want: options.want, limit: options.limit ?? 1000 });
          failures = 0;
          if (stopped) break;
          for (const e of events) {
            if (compareIds(e.id, last) > 0) last = e.id;
            queue.push(e);
            pump();
            if (queue.length > capacity) {
              queue.shift();
              dropped++;
            }
          }
          if (events.length === 0) await waiter.sleep(interval);
        } catch (e) {
          if (stopped || store.isClosed) break;
          onError(e);
          await waiter.sleep(backoff(failures++, 500));
        }
      }
    };
    void loop().catch((e: unknown) => onError(e));
    return () => {
      stopped = true;
      woken.unsubscribe();
      waiter.wake();
    };
  });
}
