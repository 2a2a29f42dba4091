/**
 * The bench contract: what a case file (`bench/cases/<name>.case.ts`) exports by default and
 * what a side script prints. See bench/README.md.
 */

/** One side of a case: a script run in its own fresh process. */
export interface Side {
  /** What this side is, naming the anchor for the anchor side (e.g. 'RxJS pipe'). */
  label: string;
  /** Script path relative to the repository root. */
  script: string;
  args?: string[];
}

/** A benchmark case: our side against a fair anchor doing the same work with the same guarantees. */
export interface BenchCase {
  name: string;
  ours: Side;
  anchor: Side;
  /** The ratio ours/anchor to stay at or under. */
  target?: number;
  note?: string;
}

/** What a side prints as its LAST stdout line (JSON). Extra fields are kept. */
export interface SideReport {
  /** Milliseconds of the timed work only (not process start, not data preparation). */
  ms: number;
  /** Peak resident set size of the process, MB. */
  rssMb: number;
  [extra: string]: unknown;
}

/**
 * Declares a case (an identity function that type-checks it).
 *
 * @example
 * ```ts
 * export default defineCase({
 *   name: 'linear-1m',
 *   ours: { label: 'network', script: 'bench/sides/linear-network.ts', args: ['1000000'] },
 *   anchor: { label: 'RxJS pipe', script: 'bench/sides/linear-pipe.ts', args: ['1000000'] },
 *   target: 1.2,
 * });
 * ```
 */
export function defineCase(c: BenchCase): BenchCase {
  return c;
}
