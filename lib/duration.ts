import { TributaryError } from './errors';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * The longest delay a timer can hold (2^31 − 1 ms, about 24.8 days): Node runs a longer one
 * after 1 ms, so a duration that becomes a timer is refused above it rather than turned into
 * a busy loop.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Parses a duration that will become a timer: like {@link parseDuration}, and an error naming
 * `option` above {@link MAX_TIMER_MS}.
 *
 * @example
 * ```ts
 * parseTimer('30s', 'drainTimeout');              // 30000
 * parseTimer('99999999999999h', 'drainTimeout');  // throws: … at most 2147483647ms …
 * ```
 */
export function parseTimer(value: unknown, option = 'duration'): number {
  const ms = parseDuration(value, option);
  if (ms > MAX_TIMER_MS) {
    throw new TributaryError(
      'BAD_OPTION',
      `option '${option}': ${JSON.stringify(value)} is longer than a timer can hold (at most ${MAX_TIMER_MS}ms, about 24.8 days)`,
    );
  }
  return ms;
}

/** A duration as the original accepted it (Go syntax, `"1m30s"`) or a number of milliseconds. */
export type Duration = string | number;

/**
 * Parses a duration in Go syntax (`"500ms"`, `"2s"`, `"1m30s"`, `"1h"`, `"1.5s"`) or a
 * non-negative number of milliseconds, returning milliseconds. `option` names what is being
 * parsed, so a bad value yields an error that says where it came from.
 *
 * @example
 * ```ts
 * parseDuration('1m30s');      // 90000
 * parseDuration(250);          // 250
 * parseDuration('2x', 'interval'); // throws: option 'interval': bad duration "2x" …
 * ```
 */
export function parseDuration(value: unknown, option = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw badDuration(value, option);
  }
  if (typeof value !== 'string') throw badDuration(value, option);
  const text = value.trim();
  if (text === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === '') throw badDuration(value, option);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) throw badDuration(value, option);
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return total;
}

/**
 * Formats milliseconds back into Go syntax, the shortest exact form.
 *
 * @example
 * ```ts
 * formatDuration(90000); // '1m30s'
 * formatDuration(500);   // '500ms'
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  // Go writes a sign; without this a negative duration formatted as ''.
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${Number(rest.toFixed(6))}ms`;
  return out;
}

function badDuration(value: unknown, option: string): TributaryError {
  return new TributaryError(
    'BAD_OPTION',
    `option '${option}': bad duration ${JSON.stringify(value)} ` +
      `(expected Go syntax such as "500ms", "2s", "1m30s", "1h", or a non-negative number of milliseconds)`,
  );
}
