import { map, Observable, Subject, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { createDelivery } from '../delivery';
import { createEvent, type Event } from '../event';
import type { SourceNode } from '../nodes/types';

/** How one event's delivery was settled, and when. */
export interface Settled<T = unknown> {
  /** Virtual time (ms) of the settlement. */
  frame: number;
  payload: T;
  acked: boolean;
  /** The nack's reason. */
  reason?: unknown;
}

/**
 * Gives events delivery handles, the way a message bus or an HTTP source does, and records
 * how the network settled each: which payloads were acked or nacked, and at which virtual
 * frame. `acks` and `nacks` are observables of the settled payloads at the frame they were
 * settled, ready for `m.expect(probe.acks).toBeObservable(…)` in an rxjs-marbles test; `log`
 * keeps every settlement for plain assertions.
 *
 * @example
 * ```ts
 * const deliveries = new DeliveryProbe(m.scheduler);
 * net.add('bets', deliveries.source(m.cold('a-b|', values)));
 * // … link to a filter and a sink …
 * m.expect(deliveries.acks).toBeObservable('a-b', values);
 * ```
 */
export class DeliveryProbe<T = unknown> {
  /** Every settlement so far, in order. */
  readonly log: Settled<T>[] = [];
  private readonly settled$ = new Subject<Settled<T>>();
  private readonly open = new Set<{ payload: T }>();
  /** Payloads as they are acked (never completes). */
  readonly acks: Observable<T>;
  /** Payloads as they are nacked (never completes). */
  readonly nacks: Observable<T>;

  constructor(private readonly scheduler: SchedulerLike) {
    this.acks = this.only(true);
    this.nacks = this.only(false);
  }

  /**
   * An event carrying `payload` and a delivery handle this probe watches, stamped with the
   * scheduler's time.
   *
   * @example
   * ```ts
   * const e = deliveries.event({ stake: 5 });
   * e.delivery?.ack(); // deliveries.log[0] → { frame: 0, payload: { stake: 5 }, acked: true }
   * ```
   */
  event(payload: T): Event<T> {
    const entry = { payload };
    this.open.add(entry);
    const delivery = createDelivery((s) => {
      this.open.delete(entry);
      const record: Settled<T> = s.acked
        ? { frame: this.scheduler.now(), payload, acked: true }
        : { frame: this.scheduler.now(), payload, acked: false, reason: s.reason };
      this.log.push(record);
      this.settled$.next(record);
    });
    return createEvent(payload, { time: this.scheduler.now(), delivery });
  }

  /**
   * An operator turning payloads into events with watched delivery handles.
   *
   * @example
   * ```ts
   * m.cold('a-b|').pipe(deliveries.events(), toOperator(node, { scheduler: m.scheduler }));
   * ```
   */
  events(): OperatorFunction<T, Event<T>> {
    return map((p) => this.event(p));
  }

  /**
   * A source node emitting the observable's payloads as events with watched delivery
   * handles (a bus or HTTP source stand-in).
   *
   * @example
   * ```ts
   * net.add('bets', deliveries.source(m.hot('--a--b|', values)));
   * ```
   */
  source(payloads: Observable<T>): SourceNode {
    return { role: 'source', kind: 'marbles', create: () => payloads.pipe(this.events()) };
  }

  /**
   * Payloads whose delivery nobody settled yet (in flight, or lost).
   *
   * @example
   * ```ts
   * expect(deliveries.pending()).toEqual([]); // nothing was left unsettled
   * ```
   */
  pending(): T[] {
    return [...this.open].map((e) => e.payload);
  }

  private only(acked: boolean): Observable<T> {
    return new Observable<T>((subscriber) => {
      // Settlements made earlier in this very frame are replayed (an expectation subscribes
      // at frame 0, possibly after the network already settled frame-0 events).
      const now = this.scheduler.now();
      for (const s of this.log) if (s.frame === now && s.acked === acked) subscriber.next(s.payload);
      return this.settled$.subscribe((s) => {
        if (s.acked === acked) subscriber.next(s.payload);
      });
    });
  }
}
