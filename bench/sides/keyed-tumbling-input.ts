/**
 * The input of the keyed-tumbling benches, the same for both sides: 1M bets over 10k
 * customers, one per ms of event time (in order), counted per customer in tumbling windows
 * of one minute (about 6 bets per customer and window, 170k results). Built before timing.
 */
export const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
export const KEYS = 10_000;
export const SIZE_MS = 60_000;
export const START_MS = Date.parse('2026-11-28T00:00:00Z');

export interface BenchBet {
  customer: string;
  placed_at: number;
}

/** The bets, in event-time order; customers spread by a fixed stride so each window sees most keys. */
export function bets(): BenchBet[] {
  const names = Array.from({ length: KEYS }, (_, i) => `c${i}`);
  const out: BenchBet[] = new Array(EVENTS);
  for (let i = 0; i < EVENTS; i++) out[i] = { customer: names[(i * 7919) % KEYS], placed_at: START_MS + i };
  return out;
}

/** The number of results both sides must produce (checked, so neither side skips work). */
export function expectedResults(): number {
  const seen = new Set<string>();
  for (let i = 0; i < EVENTS; i++) seen.add(`${(i * 7919) % KEYS}|${Math.floor((START_MS + i) / SIZE_MS)}`);
  return seen.size;
}

/** Starts the clocks: wall time, and CPU time (less disturbed by other processes on a busy machine). */
export function startTimer(): () => { ms: number; cpuMs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
}

/** Prints the side's last line as the bench runner reads it. */
export function report(time: { ms: number; cpuMs: number }, results: number, peakRss: number, extra: Record<string, unknown> = {}): void {
  const expected = expectedResults();
  if (results !== expected) throw new Error(`produced ${results} results, expected ${expected}`);
  console.log(
    JSON.stringify({
      ms: Math.round(time.ms),
      rssMb: Math.round(peakRss / 1e6),
      eventsPerSec: Math.round(EVENTS / (time.ms / 1000)),
      cpuMs: Math.round(time.cpuMs),
      results,
      ...extra,
    }),
  );
}
