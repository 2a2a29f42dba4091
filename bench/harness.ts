/**
 * Side-by-side timing: each case runs in the same process, alternating, several rounds; the
 * median is reported. Numbers are for comparison within one run, not absolute claims.
 */
export interface Case {
  name: string;
  run: () => Promise<unknown> | unknown;
}

export interface Result {
  name: string;
  medianMs: number;
  runsMs: number[];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs each case `rounds` times (after one warm-up), interleaved, and returns medians.
 *
 * @example
 * ```ts
 * const [a, b] = await compare([{ name: 'pipe', run: plain }, { name: 'network', run: net }], 5);
 * console.log(b.medianMs / a.medianMs);
 * ```
 */
export async function compare(cases: Case[], rounds = 5): Promise<Result[]> {
  for (const c of cases) await c.run();
  const times = cases.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      gc();
      const t0 = process.hrtime.bigint();
      await cases[i].run();
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return cases.map((c, i) => {
    const sorted = [...times[i]].sort((a, b) => a - b);
    return { name: c.name, medianMs: sorted[Math.floor(sorted.length / 2)], runsMs: times[i] };
  });
}

/** Formats a number of events per second. */
export function rate(events: number, ms: number): string {
  return `${Math.round(events / (ms / 1000)).toLocaleString('en-US')} events/s`;
}
