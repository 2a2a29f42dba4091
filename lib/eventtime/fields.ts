import { TributaryError } from '../errors';
import type { Event } from '../event';
import { opt } from '../nodes/options';

/** What a key function or key path may return: any JSON-friendly value. */
export type KeyFn = (payload: any) => unknown;

/**
 * The options every event-time window shares (declared once, spread into each kind): how the
 * key, the event time and the watermark are found, what is aggregated and when results go out.
 */
export const windowFields = {
  key: opt.any<string | KeyFn>(
    'payload path of the key ("customer.id") or a function payload => key (JS or Lua); default: one window for all events',
  ),
  aggregate: opt.enum(
    ['count', 'sum', 'avg', 'min', 'max', 'collect', 'reduce'] as const,
    'what a window computes: count, sum/avg/min/max of `field`, collect (a list, at most maxItems), reduce (with `reduce`); default count, or reduce when `reduce` is given',
  ),
  field: opt.string('payload path of the value for sum, avg, min, max and collect; default the payload itself'),
  reduce: opt.fn<(acc: any, payload: any) => unknown>('(acc, payload) => new acc (JS or Lua); the window result is the final acc'),
  initial: opt.any('the accumulator reduce starts from; default null'),
  maxItems: opt.integer('most values one collect window holds; more is an error event naming the window', { min: 1 }).withDefault(10_000),
  emit: opt.enum(['close', 'update'] as const, 'when results go out: once when a window closes, or on every update').withDefault('close'),
  time: opt
    .enum(['event', 'processing'] as const, "which clock windows follow: the events' time, or the scheduler's at arrival")
    .withDefault('event'),
  timeField: opt.string('payload path of the event time ("placed_at"); default the event metadata time (meta.time, ms)'),
  timeUnit: opt
    .enum(['ms', 's', 'iso'] as const, 'how timeField is written: Unix ms, Unix seconds (may be fractional) or an ISO-8601 string')
    .withDefault('ms'),
  maxOutOfOrderness: opt.duration('how far behind the newest event time an event may arrive and still be on time').withDefault(0),
  allowedLateness: opt.duration('how long a closed window stays open to late events (each one re-emits its result)').withDefault(0),
  endOfInput: opt
    .enum(
      ['fire', 'keep'] as const,
      "when the input completes: 'fire' every open window (a finite input, a replay), or 'keep' them in the checkpointed state for a restart (their events not acked are nacked)",
    )
    .withDefault('fire'),
  idleTimeout: opt.timer(
    'after this long without input the watermark follows the clock, so an idle input does not hold windows open forever',
    { min: 1 },
  ),
};

/**
 * A getter for a dotted payload path (`"bet.customer"`); undefined where a step is missing.
 *
 * @example
 * ```ts
 * pathGetter('bet.stake')({ bet: { stake: 5 } }); // 5
 * ```
 */
export function pathGetter(path: string): (payload: unknown) => unknown {
  const steps = path.split('.');
  if (steps.length === 1) {
    const [a] = steps;
    return (p) => (p !== null && typeof p === 'object' ? (p as Record<string, unknown>)[a] : undefined);
  }
  return (p) => {
    let v: unknown = p;
    for (const s of steps) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[s];
    }
    return v;
  };
}

/** Resolved time settings (what `build` received). */
export interface TimeSettings {
  time: 'event' | 'processing';
  timeField?: string;
  timeUnit: 'ms' | 's' | 'iso';
}

/**
 * The function reading an event's time in ms (event-time mode): from `timeField` in
 * `timeUnit`, or the event's metadata time. A missing or unreadable time throws an error
 * naming the node, the option and the field.
 *
 * @example
 * ```ts
 * const timeOf = eventTimeReader({ time: 'event', timeField: 'at', timeUnit: 's' }, "node 'w'");
 * timeOf(createEvent({ at: 1.5 })); // 1500
 * ```
 */
export function eventTimeReader(o: TimeSettings, where: string): (e: Event) => number {
  if (o.timeField === undefined) return (e) => e.meta.time;
  const field = o.timeField;
  const get = pathGetter(field);
  const bad = (v: unknown, expected: string) =>
    new TributaryError(
      'BAD_OPTION',
      `${where}: option 'timeField': payload field '${field}' must be ${expected}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  switch (o.timeUnit) {
    case 'ms':
      return (e) => {
        const v = get(e.payload);
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(v, 'a number of Unix milliseconds (timeUnit "ms")');
        return v;
      };
    case 's':
      return (e) => {
        const v = get(e.payload);
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(v, 'a number of Unix seconds (timeUnit "s")');
        return v * 1000;
      };
    case 'iso':
      return (e) => {
        const v = get(e.payload);
        const ms = typeof v === 'string' ? Date.parse(v) : NaN;
        if (Number.isNaN(ms)) throw bad(v, 'an ISO-8601 date-time string (timeUnit "iso")');
        return ms;
      };
  }
}

/** What {@link keyReader} returns: none (one window for all events), or the key of a payload. */
export type KeyReader = ((payload: unknown) => unknown) | undefined;

/**
 * The key function of a window: a payload path, a function, or none. A function's throw, or
 * a path that finds nothing, becomes an error naming the node and the option.
 *
 * @example
 * ```ts
 * keyReader('customer', "node 'w'")!({ customer: 'c1' }); // 'c1'
 * ```
 */
export function keyReader(key: string | KeyFn | undefined, where: string): KeyReader {
  if (key === undefined) return undefined;
  if (typeof key === 'function') return key;
  if (typeof key !== 'string' || key === '')
    throw new TributaryError('BAD_OPTION', `${where}: option 'key' must be a payload path or a function, got ${typeof key}`);
  const get = pathGetter(key);
  return (p) => {
    const k = get(p);
    if (k === undefined) throw new TributaryError('BAD_OPTION', `${where}: option 'key': payload has no field '${key}'`);
    return k;
  };
}

/**
 * The map key a window keeps for a key value: strings, numbers, booleans and null as they are
 * (fast), anything else as its JSON text.
 *
 * @example
 * ```ts
 * keyId({ region: 'eu' }); // '\u0000{"region":"eu"}'
 * ```
 */
export function keyId(k: unknown): unknown {
  const t = typeof k;
  if (t === 'string' || t === 'number' || t === 'boolean' || k === null) return k;
  return '\u0000' + JSON.stringify(k);
}
