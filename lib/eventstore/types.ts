import { TributaryError, type TributaryErrorCode } from '../errors';

/**
 * An event as the store delivers it. `id` is its position in commit order, as a decimal
 * string (ids may exceed 2^53: compare them with {@link compareIds}, not as numbers).
 */
export interface StoredEvent {
  /** Position in the stream (decimal string); what a consumer passes back as `lastId`. */
  readonly id: string;
  /** `^[A-Z_]{1,16}$`, as FTN18. */
  readonly type: string;
  /** The JSON data recorded with the event. */
  readonly data: unknown;
  /** When it was recorded, ISO 8601 UTC. */
  readonly ts: string;
}

/** One event to record: its type and its JSON data. */
export interface NewEvent {
  type: string;
  data: unknown;
}

/** Why an event store call was refused, with FTN18's error names. */
export type EventStoreReason =
  'NotRegistered' | 'LiveNotAllowed' | 'InvalidEventType' | 'InvalidEventData' | 'InvalidId' | 'InvalidComponent';

/**
 * An error of the event store API: `reason` is FTN18's error name (`NotRegistered` …).
 *
 * @example
 * ```ts
 * try { await store.poll('billing'); } catch (e) { if (e instanceof EventStoreError && e.reason === 'NotRegistered') … }
 * ```
 */
export class EventStoreError extends TributaryError {
  constructor(
    readonly reason: EventStoreReason,
    message: string,
    code: TributaryErrorCode = 'BAD_OPTION',
  ) {
    super(code, `event store: ${message}`);
  }
}

const TYPE = /^[A-Z_]{1,16}$/;
const ID = /^\d{1,20}$/;
const COMPONENT = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Checks an event type against FTN18's `^[A-Z_]{1,16}$`.
 *
 * @example
 * ```ts
 * checkType('ORDER_PLACED'); // ok
 * checkType('order');        // throws InvalidEventType
 * ```
 */
export function checkType(type: unknown): string {
  if (typeof type !== 'string' || !TYPE.test(type)) {
    throw new EventStoreError('InvalidEventType', `event type ${JSON.stringify(type)} must match ^[A-Z_]{1,16}$`);
  }
  return type;
}

/**
 * Serialises event data to JSON; data that has no JSON form (undefined, a function, a
 * BigInt, a cycle) is refused naming the type.
 *
 * @example
 * ```ts
 * encodeData('ORDER_PLACED', { order: 7 }); // '{"order":7}'
 * ```
 */
export function encodeData(type: string, data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (e) {
    throw new EventStoreError('InvalidEventData', `data of a ${type} event cannot be JSON: ${(e as Error).message}`);
  }
  if (text === undefined) throw new EventStoreError('InvalidEventData', `data of a ${type} event cannot be JSON (got ${typeof data})`);
  return text;
}

/**
 * An event id (a position) as a decimal string: a string of digits, a bigint or a safe
 * integer; anything else is refused (a rounded double would name the wrong event).
 *
 * @example
 * ```ts
 * checkId(12n);  // '12'
 * checkId(1.5);  // throws InvalidId
 * ```
 */
export function checkId(id: unknown, what = 'lastId'): string {
  if (typeof id === 'bigint' && id >= 0n) return id.toString();
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  if (typeof id === 'string' && ID.test(id)) return id.replace(/^0+(?=\d)/, '');
  throw new EventStoreError(
    'InvalidId',
    `${what} ${JSON.stringify(String(id))} must be a non-negative integer (decimal string, bigint or safe integer)`,
  );
}

/**
 * Checks a consumer component name: 1–64 of letters, digits, `_ . : -`.
 *
 * @example
 * ```ts
 * checkComponent('billing'); // 'billing'
 * ```
 */
export function checkComponent(component: unknown): string {
  if (typeof component !== 'string' || !COMPONENT.test(component)) {
    throw new EventStoreError(
      'InvalidComponent',
      `consumer ${JSON.stringify(component)} must be 1-64 letters, digits, '_', '.', ':' or '-'`,
    );
  }
  return component;
}

/**
 * Orders two decimal id strings numerically (without converting to numbers).
 *
 * @example
 * ```ts
 * compareIds('10', '9'); // 1
 * ```
 */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
