import type { NodeProbe } from '../nodes/types';

/** Upper bounds (seconds) of the processing-time histogram buckets; the last bucket is +Inf. */
export const TIMING_BUCKETS = [0.00001, 0.0001, 0.001, 0.01, 0.1, 1, 10] as const;
/** How many error messages per node are kept for the live page. */
const LAST_ERRORS = 5;

/** A gauge a node published. */
export interface ProbeGauge {
  help: string;
  read: () => number;
}

/** What a node's probe gathered: the sampled-time histogram, its gauges and last errors. */
export interface ProbeReading {
  /** Cumulative counts per bucket of {@link TIMING_BUCKETS}, then +Inf. */
  buckets: number[];
  sum: number;
  count: number;
  gauges: ReadonlyMap<string, ProbeGauge>;
  /** Newest last. */
  errors: readonly string[];
  /** Events a sink finished with; undefined when the node never reported one. */
  finished?: number;
}

/**
 * The network's probe of one node (see {@link NodeProbe}): 1 in `every` calls is timed with
 * the process clock (0 turns timing off), gauges are kept to be read on scrape.
 *
 * @example
 * ```ts
 * const probe = new NetworkProbe(64);
 * const done = probe.sample();
 * done?.();
 * probe.reading().count; // 0 or 1
 * ```
 */
export class NetworkProbe implements NodeProbe {
  private n = 0;
  /** Calls per timed one; Infinity when timing is off (one comparison decides both). */
  private readonly every: number;
  private started = 0;
  /** Ends the sampled call (one at a time: an overlapping sample restarts the clock). */
  private readonly stop = (): void => this.observe((performance.now() - this.started) / 1000);
  private readonly counts = new Array<number>(TIMING_BUCKETS.length + 1).fill(0);
  private sum = 0;
  private count = 0;
  private readonly gauges = new Map<string, ProbeGauge>();
  private readonly errors: string[] = [];
  private done: number | undefined;

  constructor(every: number) {
    this.every = every > 0 ? every : Infinity;
    // The first call is timed at once, so a slow stream shows a figure before its 256th event.
    this.n = every > 0 ? every - 1 : 0;
  }

  /** False when this probe never times a call (timing off): callers may skip {@link sample} then. */
  get timing(): boolean {
    return this.every !== Infinity;
  }

  sample(): (() => void) | undefined {
    if (++this.n < this.every) return undefined;
    this.n = 0;
    this.started = performance.now();
    return this.stop;
  }

  gauge(name: string, help: string, read: () => number): void {
    this.gauges.set(name, { help, read });
  }

  error(message: string): void {
    this.errors.push(message.length > 500 ? `${message.slice(0, 499)}…` : message);
    if (this.errors.length > LAST_ERRORS) this.errors.shift();
  }

  finished(): void {
    this.done = (this.done ?? 0) + 1;
  }

  /** What was gathered so far. */
  reading(): ProbeReading {
    const buckets: number[] = [];
    let running = 0;
    for (const c of this.counts) buckets.push((running += c));
    return { buckets, sum: this.sum, count: this.count, gauges: this.gauges, errors: [...this.errors], finished: this.done };
  }

  private observe(seconds: number): void {
    let i = 0;
    while (i < TIMING_BUCKETS.length && seconds > TIMING_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * A probe that keeps errors and gauges but never times: what nodes get outside a network (or
 * with metrics off).
 *
 * @example
 * ```ts
 * const ctx = createNodeContext('probe', { probe: quietProbe() });
 * ```
 */
export function quietProbe(): NetworkProbe {
  return new NetworkProbe(0);
}
