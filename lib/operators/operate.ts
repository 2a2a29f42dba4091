import { Observable, Subscriber, type OperatorFunction, type TeardownLogic } from 'rxjs';

/** What an operator does with each notification of its source; unset ones pass on. */
export interface OperatorHandlers<T, R> {
  next?(value: T, destination: Subscriber<R>): void;
  error?(err: unknown, destination: Subscriber<R>): void;
  complete?(destination: Subscriber<R>): void;
  /** Runs once when the subscription ends, whichever way (unsubscribe, error, complete). */
  finalize?(): void;
}

class HandlerSubscriber<T, R> extends Subscriber<T> {
  constructor(
    private readonly out: Subscriber<R>,
    private readonly handlers: OperatorHandlers<T, R>,
  ) {
    // The destination is a Subscriber: it adds us, so its unsubscribe reaches the source.
    super(out);
  }
  protected override _next(value: T): void {
    const next = this.handlers.next;
    if (!next) return void this.out.next(value as unknown as R);
    try {
      next(value, this.out);
    } catch (err) {
      this.out.error(err);
    }
  }
  protected override _error(err: unknown): void {
    if (this.handlers.error) this.handlers.error(err, this.out);
    else this.out.error(err);
    this.unsubscribe();
  }
  protected override _complete(): void {
    if (this.handlers.complete) this.handlers.complete(this.out);
    else this.out.complete();
    this.unsubscribe();
  }
  override unsubscribe(): void {
    if (this.closed) return;
    super.unsubscribe();
    this.handlers.finalize?.();
  }
}

/**
 * The one operator base of Tributary's nodes (RxJS's own `operate` shape): `init` gets the
 * output subscriber and the source, subscribes to the source through {@link handle}, and may
 * return teardown. A throw in a `next` handler errors the output instead of escaping.
 *
 * @example
 * ```ts
 * const double = operate<number, number>((out, source) =>
 *   source.subscribe(handle(out, { next: (n) => out.next(n * 2) })),
 * );
 * ```
 */
export function operate<T, R>(init: (out: Subscriber<R>, source: Observable<T>) => TeardownLogic): OperatorFunction<T, R> {
  return (source) => new Observable<R>((out) => init(out, source));
}

/**
 * A subscriber to an operator's source that sends notifications to `handlers` (or straight
 * on to `out`), unsubscribed with `out`: the replacement for hand-written
 * `source.subscribe({ next, error, complete })` blocks.
 *
 * @example
 * ```ts
 * operate<Event, Event>((out, source) => {
 *   const timer = startTimer();
 *   source.subscribe(handle(out, { next: (e) => keep(e), finalize: () => timer.unsubscribe() }));
 * });
 * ```
 */
export function handle<T, R>(out: Subscriber<R>, handlers: OperatorHandlers<T, R>): Subscriber<T> {
  return new HandlerSubscriber(out, handlers);
}
