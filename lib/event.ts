import type { Delivery } from './delivery';

/**
 * What an event carries: a JSON-friendly value (object, array, string, number, boolean,
 * null) or raw bytes.
 */
export type Payload = unknown;

/** Metadata that travels with an event through every derived copy. */
export interface EventMeta {
  /** Unique within the process; derived events keep their origin's id. */
  readonly id: string;
  /** Event time in milliseconds, from the network's scheduler when a source made it. */
  readonly time: number;
  /** Optional partition or grouping key (a message key, a customer id …). */
  readonly key?: string;
  /** Optional transport headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A per-event failure; it travels as data instead of killing the stream. */
export interface EventError {
  readonly message: string;
  /**
   * A word a program can test instead of the message: the thrown value's own string `code`
   * (`LATE_EVENT` for a late event, a `TributaryError`'s code, `ECONNREFUSED` for a
   * refused connection), or undefined when it has none.
   */
  readonly code?: string;
  /** The node whose work failed. */
  readonly node?: string;
  /** The original thrown value. */
  readonly cause?: unknown;
}

/**
 * An immutable event. Nodes never mutate one; they derive a new one with
 * {@link withPayload}, {@link withError} or {@link withDelivery}.
 */
export interface Event<P = Payload> {
  readonly payload: P;
  readonly meta: EventMeta;
  readonly error?: EventError;
  readonly delivery?: Delivery;
}

/** Options for {@link createEvent}. */
export interface EventInit {
  /** Event time in ms; sources pass their scheduler's `now()`. Default: 0. */
  time?: number;
  id?: string;
  key?: string;
  headers?: Record<string, string>;
  delivery?: Delivery;
}

let seq = 0;
const prefix = `${process.pid.toString(36)}.`;

/** Metadata with a lazily formatted id: most events never have their id read. */
class TMeta implements EventMeta {
  private _id: string | undefined;
  constructor(
    private readonly seq: number,
    readonly time: number,
    readonly key: string | undefined,
    readonly headers: Readonly<Record<string, string>> | undefined,
    id: string | undefined,
  ) {
    this._id = id;
  }
  get id(): string {
    return (this._id ??= prefix + this.seq.toString(36));
  }
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { id: this.id, time: this.time };
    if (this.key !== undefined) out.key = this.key;
    if (this.headers !== undefined) out.headers = this.headers;
    return out;
  }
}

class TEvent<P> implements Event<P> {
  constructor(
    readonly payload: P,
    readonly meta: EventMeta,
    readonly error: EventError | undefined,
    readonly delivery: Delivery | undefined,
  ) {}
}

/**
 * Creates a new event. Inside a node prefer `ctx.event(payload)`, which stamps the
 * network scheduler's time.
 *
 * @example
 * ```ts
 * const e = createEvent({ stake: 5 }, { time: 1000, key: 'customer-1' });
 * e.payload.stake; // 5
 * e.meta.key;      // 'customer-1'
 * ```
 */
export function createEvent<P>(payload: P, init: EventInit = {}): Event<P> {
  return new TEvent(payload, new TMeta(++seq, init.time ?? 0, init.key, init.headers, init.id), undefined, init.delivery);
}

/** The hot-path constructor sources use: no options object. */
export function eventAt<P>(payload: P, time: number): Event<P> {
  return new TEvent(payload, new TMeta(++seq, time, undefined, undefined, undefined), undefined, undefined);
}

/**
 * Derives an event with another payload, keeping metadata, error state and delivery.
 *
 * @example
 * ```ts
 * const doubled = withPayload(e, e.payload * 2); // same id, time and ack handle
 * ```
 */
export function withPayload<P>(event: Event<unknown>, payload: P): Event<P> {
  return new TEvent(payload, event.meta, event.error, event.delivery);
}

/**
 * Derives an error event: same payload and metadata, plus the failure and the node it
 * happened in.
 *
 * @example
 * ```ts
 * const failed = withError(e, new Error('bad stake'), 'validate');
 * failed.error?.message; // 'bad stake'
 * ```
 */
export function withError<P>(event: Event<P>, cause: unknown, node?: string): Event<P> {
  const message = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : String(cause);
  const code = errorCode(cause);
  return new TEvent(
    event.payload,
    event.meta,
    code === undefined ? { message, node, cause } : { message, code, node, cause },
    event.delivery,
  );
}

/** The string `code` a thrown value carries (Error subclasses and Node's system errors do), or undefined. */
function errorCode(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && code !== '' ? code : undefined;
}

/**
 * Derives an event with the error cleared (a dead-letter handler that repaired the payload).
 *
 * @example
 * ```ts
 * const repaired = withoutError(withPayload(failed, fixed));
 * ```
 */
export function withoutError<P>(event: Event<P>): Event<P> {
  return new TEvent(event.payload, event.meta, undefined, event.delivery);
}

/**
 * Derives an event with another delivery handle (or none).
 *
 * @example
 * ```ts
 * const [left, right] = forkDelivery(e.delivery!, 2);
 * const copy = withDelivery(e, left);
 * ```
 */
export function withDelivery<P>(event: Event<P>, delivery: Delivery | undefined): Event<P> {
  return new TEvent(event.payload, event.meta, event.error, delivery);
}

/**
 * True for an object made by {@link createEvent} or its derivations.
 *
 * @example
 * ```ts
 * isEvent(createEvent(1)); // true
 * isEvent({ payload: 1 }); // false
 * ```
 */
export function isEvent(value: unknown): value is Event {
  return value instanceof TEvent;
}

/**
 * Acks an event's delivery, if it has one.
 *
 * @example
 * ```ts
 * ack(event); // no-op for events without a delivery handle
 * ```
 */
export function ack(event: Event<unknown>): void {
  event.delivery?.ack();
}

/**
 * Nacks an event's delivery, if it has one.
 *
 * @example
 * ```ts
 * nack(event, new Error('sink unavailable'));
 * ```
 */
export function nack(event: Event<unknown>, reason?: unknown): void {
  event.delivery?.nack(reason);
}
