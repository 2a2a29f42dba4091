import { TestScheduler } from 'rxjs/testing';
import { formatPayload } from '../nodes/tester';

/**
 * One notification at a virtual frame: a value, the completion (`|`) or an error (`#`).
 * What marble diagrams describe and recorders record, in a form that can be compared and
 * printed frame by frame.
 */
export type Mark =
  { frame: number; kind: 'next'; value: unknown } | { frame: number; kind: 'complete' } | { frame: number; kind: 'error'; error: unknown };

/**
 * Parses a marble diagram into marks with run-mode timing (`-` is 1 ms, time progressions
 * such as `500ms` or `2s` allowed) whether or not a `TestScheduler.run` callback is active.
 * Without `values` (or with an empty table) a letter stands for itself; with values, a letter
 * that has none is an error naming it (RxJS would silently use `undefined`).
 *
 * @example
 * ```ts
 * marks('a 999ms b|', { a: 1, b: 2 });
 * // [{ frame: 0, kind: 'next', value: 1 }, { frame: 1000, kind: 'next', value: 2 }, { frame: 1001, kind: 'complete' }]
 * ```
 */
export function marks(marbles: string, values?: Record<string, unknown>, error?: unknown): Mark[] {
  // Outside a run() callback RxJS counts 10 frames per character; marbles here are always run mode.
  const factor = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  const lookup =
    values === undefined || Object.keys(values).length === 0
      ? undefined
      : new Proxy(values, {
          get(target, key) {
            if (typeof key === 'string' && !(key in target)) {
              throw new Error(`marble '${key}' in '${marbles}' has no value (values: ${Object.keys(target).join(', ')})`);
            }
            return Reflect.get(target, key);
          },
        });
  try {
    return TestScheduler.parseMarbles(marbles, lookup, error, false, true).map(({ frame, notification: n }): Mark => {
      if (n.kind === 'N') return { frame, kind: 'next', value: n.value };
      if (n.kind === 'E') return { frame, kind: 'error', error: n.error };
      return { frame, kind: 'complete' };
    });
  } finally {
    TestScheduler.frameTimeFactor = factor;
  }
}

/**
 * Structural equality for payloads: primitives by value, arrays element by element, plain
 * objects by their keys in any order (keys whose value is `undefined` ignored), bytes by content.
 * Lenient where it does not matter to a test (key order, prototypes of plain objects from
 * Lua or a database driver), strict elsewhere (`1` is not `'1'`).
 *
 * @example
 * ```ts
 * sameValue({ a: 1, b: [2] }, { b: [2], a: 1 }); // true
 * sameValue(1, '1');                             // false
 * ```
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameValue(x, bb[i]));
  }
  if (a instanceof Error || b instanceof Error) {
    return a instanceof Error && b instanceof Error && a.message === b.message;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as any)[k], (b as any)[k]));
}

function sameMark(a: Mark, b: Mark): boolean {
  if (a.kind !== b.kind || a.frame !== b.frame) return false;
  if (a.kind === 'next') return sameValue(a.value, (b as { value: unknown }).value);
  if (a.kind === 'error') return sameValue(a.error, (b as { error: unknown }).error);
  return true;
}

/**
 * Renders a mark's value for a diff: payloads as the printer shows them (strings quoted so
 * `"1"` and `1` differ), `|` for completion, `#` and the message for an error.
 *
 * @example
 * ```ts
 * showMark({ frame: 0, kind: 'next', value: { a: 1 } }); // '{"a":1}'
 * showMark({ frame: 5, kind: 'complete' });               // '|'
 * ```
 */
export function showMark(m: Mark): string {
  if (m.kind === 'complete') return '|';
  if (m.kind === 'error') return `# ${m.error instanceof Error ? m.error.message : formatPayload(m.error)}`;
  let text: string;
  try {
    text = typeof m.value === 'string' ? JSON.stringify(m.value) : formatPayload(m.value);
  } catch {
    text = String(m.value);
  }
  return text.length > 72 ? `${text.slice(0, 69)}...` : text;
}

/** Where two frame lists first disagree. */
export interface FrameMismatch {
  /** The first frame (virtual ms) whose notifications differ. */
  frame: number;
  /** What was expected at that frame, and what arrived (empty: nothing). */
  expected: Mark[];
  actual: Mark[];
  /** How many frames differ in all. */
  differing: number;
  /** A readable table of the frames around the first difference (see {@link compareFrames}). */
  message: string;
}

/**
 * Compares expected and actual notifications frame by frame (`unit: 'event'` for lists whose
 * "frames" are positions 1, 2, 3 …). Returns `undefined` when they
 * match, otherwise where they first differ with a table of the frames around it (two before,
 * up to five after, the first differing row marked `>`):
 *
 * ```text
 * first difference at frame 2500: expected 2500, actual nothing
 *     frame  expected      actual
 *     2000   2000, 2000    2000, 2000
 *   > 2500   2500          —
 *     3000   3000          3000
 * ```
 *
 * @example
 * ```ts
 * const mismatch = compareFrames(marks('a-b|'), recorded);
 * if (mismatch) throw new Error(mismatch.message);
 * ```
 */
export function compareFrames(
  expected: readonly Mark[],
  actual: readonly Mark[],
  unit: 'frame' | 'event' = 'frame',
): FrameMismatch | undefined {
  const byFrame = (list: readonly Mark[]) => {
    const m = new Map<number, Mark[]>();
    for (const x of list) m.set(x.frame, [...(m.get(x.frame) ?? []), x]);
    return m;
  };
  const e = byFrame(expected);
  const a = byFrame(actual);
  const frames = [...new Set([...e.keys(), ...a.keys()])].sort((x, y) => x - y);
  const rows = frames.map((frame) => {
    const ex = e.get(frame) ?? [];
    const ac = a.get(frame) ?? [];
    const same = ex.length === ac.length && ex.every((m, i) => sameMark(m, ac[i]));
    return { frame, ex, ac, same };
  });
  const first = rows.findIndex((r) => !r.same);
  if (first < 0) return undefined;
  const row = rows[first];
  const list = (ms: Mark[]) => (ms.length === 0 ? 'nothing' : ms.map(showMark).join(', '));
  const cell = (ms: Mark[]) => (ms.length === 0 ? '—' : ms.map(showMark).join(', '));
  const from = Math.max(0, first - 2);
  const to = Math.min(rows.length, first + 6);
  const shown = rows.slice(from, to);
  const frameWidth = Math.max(unit.length, ...shown.map((r) => String(r.frame).length));
  const expWidth = Math.max(8, ...shown.map((r) => cell(r.ex).length));
  const lines = [
    `first difference at ${unit} ${row.frame}: expected ${list(row.ex)}, actual ${list(row.ac)}`,
    `    ${unit.padEnd(frameWidth)}  ${'expected'.padEnd(expWidth)}  actual`,
  ];
  if (from > 0) lines.push(`    ${'…'.padEnd(frameWidth)}  (${from} equal ${unit}${from === 1 ? '' : 's'} before)`);
  for (const r of shown) {
    lines.push(`  ${r.same ? ' ' : '>'} ${String(r.frame).padEnd(frameWidth)}  ${cell(r.ex).padEnd(expWidth)}  ${cell(r.ac)}`);
  }
  const rest = rows.slice(to);
  if (rest.length > 0) {
    const bad = rest.filter((r) => !r.same).length;
    lines.push(`    ${'…'.padEnd(frameWidth)}  (${rest.length} more ${unit}${rest.length === 1 ? '' : 's'}, ${bad} of them different)`);
  }
  return { frame: row.frame, expected: row.ex, actual: row.ac, differing: rows.filter((r) => !r.same).length, message: lines.join('\n') };
}
