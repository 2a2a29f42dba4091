/**
 * Helpers of the window bench sides (window-ingest-*, window-tick-*): a temporary SQLite
 * file, the report line the bench runner reads, and the argument parsing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Peak RSS of this process so far, in MB. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Prints the side's report as its last stdout line: `{ ms, rssMb, ...extra }`.
 *
 * @example
 * ```ts
 * report(123.4, { events: 100000 });
 * ```
 */
export function report(ms: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(JSON.stringify({ ms, rssMb: peakRss(), ...extra }) + '\n');
}

/**
 * The side's integer argument `i`, or `fallback`.
 *
 * @example
 * ```ts
 * const N = intArg(0, 100_000);
 * ```
 */
export function intArg(i: number, fallback: number): number {
  const v = process.argv[2 + i];
  return v === undefined ? fallback : Number(v.replace(/_/g, ''));
}

/**
 * A fresh temporary directory for a SQLite file, removed at exit.
 *
 * @example
 * ```ts
 * const file = join(tempDir(), 'bench.db');
 * ```
 */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Milliseconds since `t0` (from `process.hrtime.bigint()`). */
export function since(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/**
 * A stopwatch of wall time and of the CPU time of the whole process (every thread: SQLite's
 * work runs on libuv's pool), which a machine loaded by other work disturbs far less.
 *
 * @example
 * ```ts
 * const watch = stopwatch();
 * await work();
 * const { ms, cpuMs } = watch();
 * ```
 */
export function stopwatch(): () => { ms: number; cpuMs: number } {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { ms: since(t0), cpuMs: (c.user + c.system) / 1000 };
  };
}
