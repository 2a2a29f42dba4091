import { Observable, Subscriber, type Subscription } from 'rxjs';
import { forkDelivery } from '../delivery';
import { withDelivery, type Event } from '../event';

/** Which events a branch of a broadcast receives. */
export type Lane = 'ok' | 'error' | 'all';

/**
 * The fan-out point of a node with several consumers (or an error route). Unlike `share()`,
 * it is connected explicitly after every consumer subscribed, so a synchronous source loses
 * nothing, and it splits each event's ack handle so the source is acked only once every
 * branch has settled its copy.
 *
 * @example
 * ```ts
 * const b = new Broadcast(numbers$);
 * b.branch('all').subscribe(sinkA);
 * b.branch('error').subscribe(deadLetters);
 * const connection = b.connect(); // only now does numbers$ start
 * ```
 */
export class Broadcast {
  private readonly branches: { lane: Lane; subscriber: Subscriber<Event>; counter: { delivered: number } }[] = [];
  private connection?: Subscription;
  /** The branches an ok event and an error event go to, worked out once per change of branches (not per event). */
  private okTargets: Broadcast['branches'] | undefined;
  private errorTargets: Broadcast['branches'] | undefined;

  constructor(private readonly source: Observable<Event>) {}

  /**
   * A branch: subscribe before {@link connect}. `counter.delivered` counts the events it
   * was given (the consumer's input count).
   *
   * @example
   * ```ts
   * const counter = { delivered: 0 };
   * b.branch('ok', counter).subscribe(next);
   * ```
   */
  branch(lane: Lane, counter: { delivered: number } = { delivered: 0 }): Observable<Event> {
    return new Observable<Event>((subscriber) => {
      const entry = { lane, subscriber, counter };
      this.branches.push(entry);
      this.okTargets = this.errorTargets = undefined;
      return () => {
        const i = this.branches.indexOf(entry);
        if (i >= 0) this.branches.splice(i, 1);
        this.okTargets = this.errorTargets = undefined;
      };
    });
  }

  /**
   * Subscribes to the source, once: later calls return the same connection. Call after
   * every branch subscribed, which is the point of a broadcast over `share()`.
   *
   * @example
   * ```ts
   * subscriptions.push(b.connect());
   * ```
   */
  connect(): Subscription {
    this.connection ??= this.source.subscribe(new BroadcastInput(this));
    return this.connection;
  }

  /** @internal the source completed: every branch completes. */
  complete(): void {
    for (const b of [...this.branches]) b.subscriber.complete();
  }

  /** @internal the source failed: every branch fails. */
  error(err: unknown): void {
    for (const b of [...this.branches]) b.subscriber.error(err);
  }

  /** @internal one event of the source, to every branch of its lane. */
  next(event: Event): void {
    const targets =
      event.error !== undefined
        ? (this.errorTargets ??= this.branches.filter((b) => b.lane !== 'ok'))
        : (this.okTargets ??= this.branches.filter((b) => b.lane !== 'error'));
    if (targets.length === 0) {
      // Nobody is listening any more (teardown): give the event back rather than lose it.
      event.delivery?.nack(new Error('no consumer left for the event'));
      return;
    }
    if (targets.length === 1 || !event.delivery) {
      for (let i = 0; i < targets.length; i++) {
        targets[i].counter.delivered++;
        targets[i].subscriber.next(event);
      }
      return;
    }
    const parts = forkDelivery(event.delivery, targets.length);
    for (let i = 0; i < targets.length; i++) {
      targets[i].counter.delivered++;
      targets[i].subscriber.next(withDelivery(event, parts[i]));
    }
  }
}

/**
 * The broadcast's subscriber to its source: each event goes straight to
 * {@link Broadcast.next}, without the safe-subscriber layers a plain observer gets (four
 * calls per event at the busiest point of a fan-out).
 */
class BroadcastInput extends Subscriber<Event> {
  constructor(private readonly broadcast: Broadcast) {
    super();
  }

  override next(event: Event): void {
    if (!this.isStopped) this.broadcast.next(event);
  }

  protected override _error(err: unknown): void {
    try {
      this.broadcast.error(err);
    } finally {
      this.unsubscribe();
    }
  }

  protected override _complete(): void {
    try {
      this.broadcast.complete();
    } finally {
      this.unsubscribe();
    }
  }
}

/**
 * The input of a node with several producers: every event of every stream, as it comes,
 * completing once all have completed and failing with the first failure — RxJS `merge`,
 * without its operator layer per event (each input forwards straight to the consumer).
 *
 * @example
 * ```ts
 * fanIn([a$, b$, c$]).subscribe(sum); // a fan-in sink reading three maps
 * ```
 */
export function fanIn(streams: readonly Observable<Event>[]): Observable<Event> {
  return new Observable<Event>((destination) => {
    let open = streams.length;
    const completeOne = () => {
      if (--open === 0) destination.complete();
    };
    for (const stream of streams) {
      if (destination.closed) return;
      const input = new FanInInput(destination, completeOne);
      destination.add(input);
      stream.subscribe(input);
    }
    if (streams.length === 0) destination.complete();
  });
}

/** One input of {@link fanIn}: forwards to the consumer directly. */
class FanInInput extends Subscriber<Event> {
  constructor(
    private readonly out: Subscriber<Event>,
    private readonly completed: () => void,
  ) {
    super();
  }

  override next(event: Event): void {
    if (!this.isStopped) this.out.next(event);
  }

  protected override _error(err: unknown): void {
    try {
      this.out.error(err);
    } finally {
      this.unsubscribe();
    }
  }

  protected override _complete(): void {
    try {
      this.completed();
    } finally {
      this.unsubscribe();
    }
  }
}
