import { Observable, Subscriber } from 'rxjs';

/**
 * Builds an operator from a Subscriber subclass: one object per subscription and a direct
 * `_next` per value, which is measurably cheaper on hot paths than `source.subscribe({ … })`
 * (that wraps every observer in a SafeSubscriber).
 *
 * @example
 * ```ts
 * class Doubler extends Subscriber<number> {
 *   protected override _next(n: number) { this.destination.next(n * 2); }
 * }
 * const double = (src: Observable<number>) => viaSubscriber(src, (d) => new Doubler(d));
 * ```
 */
export function viaSubscriber<T, R>(source: Observable<T>, make: (destination: Subscriber<R>) => Subscriber<T>): Observable<R> {
  return new Observable<R>((destination) => source.subscribe(make(destination)));
}

/**
 * Counts values into `counters.out` and passes them on.
 *
 * @example
 * ```ts
 * const counted = viaSubscriber(source, (d) => new OutCounter<Event>(d, ctx.stats));
 * ```
 */
export class OutCounter<T> extends Subscriber<T> {
  constructor(
    destination: Subscriber<T>,
    private readonly counters: { out: number },
  ) {
    super(destination);
  }
  protected override _next(value: T): void {
    this.counters.out++;
    this.destination.next(value);
  }
}

const COUNTS_OUTPUT = Symbol.for('tributary.countsOutput');

/**
 * Marks an operator as counting its own output into its node's `stats.out`, so the network
 * does not add a counting layer after it.
 *
 * @example
 * ```ts
 * return markCountsOutput((source) => … /* increments ctx.stats.out per emitted event *\/);
 * ```
 */
export function markCountsOutput<F extends (...args: any[]) => unknown>(op: F): F {
  (op as unknown as Record<symbol, boolean>)[COUNTS_OUTPUT] = true;
  return op;
}

/**
 * True for an operator marked with {@link markCountsOutput}.
 *
 * @example
 * ```ts
 * if (!countsOutput(op)) source = viaSubscriber(source, (d) => new OutCounter(d, stats));
 * ```
 */
export function countsOutput(op: unknown): boolean {
  return typeof op === 'function' && (op as unknown as Record<symbol, boolean>)[COUNTS_OUTPUT] === true;
}

/**
 * The subscriber every source is read through: counts `stats.out`, completes (which
 * unsubscribes the source) when the network stops — one layer instead of `takeUntil` plus a
 * counter — and turns a source's RxJS error into a reported failure and a completion, so one
 * failing source does not tear the network down.
 *
 * @example
 * ```ts
 * const gated = viaSubscriber(source, (d) => new SourceGate<Event>(d, ctx.stats, (err) => report(err)));
 * ```
 */
export class SourceGate<T> extends Subscriber<T> {
  constructor(
    destination: Subscriber<T>,
    private readonly counters: { out: number; errors: number },
    private readonly onFailure: (err: unknown) => void,
  ) {
    super(destination);
  }
  // `next` itself rather than `_next` (one hop less per event: RxJS's shared Subscriber.next
  // dispatches through a call site every subscriber class goes through).
  override next(value: T): void {
    if (this.isStopped) return;
    this.counters.out++;
    this.destination.next(value);
  }
  protected override _next(value: T): void {
    this.counters.out++;
    this.destination.next(value);
  }
  /** True when what this gate feeds takes bare payloads (a fused run): see {@link bareReceiver}. */
  get acceptsBare(): boolean {
    return (this.destination as Partial<BareReceiver>).acceptsBare === true;
  }
  /** Counts and passes on a bare payload; only called when {@link acceptsBare} is true. */
  nextBare(payload: unknown, time: number): void {
    if (this.isStopped) return;
    this.counters.out++;
    (this.destination as unknown as BareReceiver).nextBare(payload, time);
  }
  protected override _error(err: unknown): void {
    this.counters.errors++;
    this.onFailure(err);
    this._complete();
  }
}

/**
 * A subscriber that takes a source's item as its bare payload and event time instead of an
 * event: `nextBare(p, t)` means exactly `next(eventAt(p, t))`, but the event is made only if a
 * node needs it. Only for items without a delivery handle, key or headers (an array's items,
 * say). A source asks {@link bareReceiver} once per subscription and falls back to `next`.
 */
export interface BareReceiver {
  readonly acceptsBare: boolean;
  nextBare(payload: unknown, time: number): void;
}

/**
 * The subscriber as a {@link BareReceiver} when it takes bare payloads, else undefined.
 *
 * @example
 * ```ts
 * new Observable<Event>((subscriber) => {
 *   const bare = bareReceiver(subscriber);
 *   for (const item of list) {
 *     if (bare) bare.nextBare(item, time);
 *     else subscriber.next(eventAt(item, time));
 *   }
 *   subscriber.complete();
 * });
 * ```
 */
export function bareReceiver(subscriber: unknown): BareReceiver | undefined {
  return (subscriber as Partial<BareReceiver>)?.acceptsBare === true ? (subscriber as BareReceiver) : undefined;
}
