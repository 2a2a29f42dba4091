/**
 * Helpers for side scripts: time the work and print the report line the runner reads.
 */

/** Peak RSS of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs `work` once (after a GC), then prints `{ ms, cpuMs, rssMb, ...extra }` as the last stdout line.
 * `check` receives the work's result, so a side that computes the wrong answer fails loudly.
 *
 * @example
 * ```ts
 * void timed(() => runPipe(data), (sum) => ({ sum }));
 * ```
 */
export async function timed<R>(work: () => R | Promise<R>, extra: (result: R) => Record<string, unknown> = () => ({})): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await work();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(c0);
  // CPU time of the process over the same span: steadier than wall time on a busy machine.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({ ms, cpuMs, rssMb: peakRssMb(), ...extra(result) }) + '\n');
}

/** The side's integer argument `i` (e.g. the event count), or `fallback`. */
export function intArg(i: number, fallback: number): number {
  const v = process.argv[2 + i];
  return v === undefined ? fallback : Number(v.replace(/_/g, ''));
}
