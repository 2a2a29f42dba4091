import type { SchedulerLike, Subscription } from 'rxjs';
import type { NodeProgress, NodeStats, Role } from '../nodes/types';

/** A terminal stream the status line is drawn on (`process.stderr`, or a test's fake). */
export interface TtyStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Width of the terminal; the line is cut to fit so it never wraps. */
  readonly columns?: number;
}

/** Erases the current terminal row and returns to its start. */
export const CLEAR_LINE = '\r\x1b[2K';

/**
 * One status line at the bottom of a terminal that other output can share: text written
 * through {@link StatusLine.passThrough} (log lines) or a stream hooked with
 * {@link StatusLine.hook} (stdout on the same terminal) first erases the line, then redraws it
 * once that output ended its line. While another writer left a line unfinished (a `tester`
 * printing dots), the status waits: drawing it there would tear that line.
 *
 * @example
 * ```ts
 * const line = new StatusLine(process.stderr);
 * line.draw('0:03 | in 1.2k/s');
 * line.passThrough.write('a log line\n'); // erases, writes, redraws
 * line.clear();
 * ```
 */
export class StatusLine {
  private text = '';
  private shown = false;
  /** Another writer's line is unfinished on the terminal. */
  private partial = false;

  constructor(readonly stream: TtyStream) {}

  /** A stream for other output on the same terminal (the logger's destination). */
  readonly passThrough: TtyStream = {
    write: (text: string) => this.around(() => this.stream.write(text), lineEnd(text)),
    isTTY: this.stream.isTTY,
  };

  /** Shows `text` as the status (cut to the terminal's width), replacing the previous one. */
  draw(text: string): void {
    const width = this.stream.columns;
    this.text = width !== undefined && width > 1 && text.length >= width ? text.slice(0, width - 1) : text;
    if (this.partial) return;
    this.stream.write(CLEAR_LINE + this.text);
    this.shown = true;
  }

  /** Erases the status and forgets it (at the end of a run). */
  clear(): void {
    if (this.shown) this.stream.write(CLEAR_LINE);
    this.shown = false;
    this.text = '';
  }

  /**
   * Routes a stream's `write` (stdout on the same terminal) around the status line until the
   * returned function is called.
   *
   * @example
   * ```ts
   * const unhook = line.hook(process.stdout);
   * try { … } finally { unhook(); }
   * ```
   */
  hook(target: { write: (...args: any[]) => boolean }): () => void {
    const original = target.write;
    target.write = (chunk: unknown, ...rest: unknown[]): boolean =>
      this.around(() => original.call(target, chunk, ...rest), lineEnd(chunk));
    return () => {
      target.write = original;
    };
  }

  /** Erases the status, writes, and redraws it unless the write left its line unfinished. */
  private around<R>(write: () => R, ends: boolean | undefined): R {
    if (this.shown) {
      this.stream.write(CLEAR_LINE);
      this.shown = false;
    }
    const result = write();
    if (ends !== undefined) this.partial = !ends;
    if (!this.partial && this.text !== '') {
      this.stream.write(this.text);
      this.shown = true;
    }
    return result;
  }
}

/** Whether a chunk ends with a newline; undefined for an empty one (it changes nothing). */
function lineEnd(chunk: unknown): boolean | undefined {
  if (typeof chunk === 'string') return chunk.length === 0 ? undefined : chunk.endsWith('\n');
  if (chunk instanceof Uint8Array) return chunk.length === 0 ? undefined : chunk[chunk.length - 1] === 0x0a;
  return undefined;
}

/** What the progress line reads from a running network (a `Network` fits). */
export interface ProgressTarget {
  stats(): Record<string, NodeStats>;
  progress(): Record<string, NodeProgress>;
  get(name: string): { readonly role: Role } | undefined;
}

/** One reading of the network's totals. */
export interface ProgressSample {
  /** Scheduler time, ms. */
  at: number;
  /** Events the sources emitted. */
  in: number;
  /** Events that reached the sinks. */
  out: number;
  /** Error events produced. */
  errors: number;
  /** Events in flight, as far as sources tell (undefined when none does). */
  inFlight?: number;
  /** Units read by sources that know their total (file bytes), and that total. */
  read: number;
  total: number;
  /** Units read by sources without a known total (stdin), and their unit. */
  streamed: number;
  unit?: string;
}

/**
 * The network's totals now: events into the network (what its sources emitted), out of it
 * (what reached its sinks), error events, events in flight (sources that track deliveries)
 * and input read (bytes of files) from `net.progress()`.
 *
 * @example
 * ```ts
 * const s = sampleNetwork(net, scheduler.now()); // { in: 1200, out: 1180, errors: 0, read: 65536, total: 1048576, … }
 * ```
 */
export function sampleNetwork(net: ProgressTarget, at: number): ProgressSample {
  const sample: ProgressSample = { at, in: 0, out: 0, errors: 0, read: 0, total: 0, streamed: 0 };
  for (const [name, s] of Object.entries(net.stats())) {
    const role = net.get(name)?.role;
    if (role === 'source') sample.in += s.out;
    if (role === 'sink') sample.out += s.in;
    sample.errors += s.errors;
  }
  for (const p of Object.values(net.progress())) {
    if (p.inFlight !== undefined) sample.inFlight = (sample.inFlight ?? 0) + p.inFlight;
    if (p.read === undefined) continue;
    if (p.total !== undefined) {
      sample.read += Math.min(p.read, p.total);
      sample.total += p.total;
    } else {
      sample.streamed += p.read;
      sample.unit = p.unit;
    }
  }
  return sample;
}

/**
 * The status text for the latest sample, with rates over the window from `first` to `last`
 * and the elapsed time since `start`: `0:42 | in 1.2k/s | out 1.2k/s | errors 0 | in flight
 * 17 | read 43% ETA 0:56`. Segments a network cannot tell (in flight, read) are left out.
 *
 * @example
 * ```ts
 * progressText({ at: 0, … }, { at: 1000, in: 500, … }, 0); // '0:01 | in 500/s | out 500/s | errors 0'
 * ```
 */
export function progressText(first: ProgressSample, last: ProgressSample, start: number): string {
  const seconds = (last.at - first.at) / 1000;
  const rate = (a: number, b: number) => (seconds > 0 ? (b - a) / seconds : 0);
  const parts = [
    duration(last.at - start),
    `in ${count(rate(first.in, last.in))}/s`,
    `out ${count(rate(first.out, last.out))}/s`,
    `errors ${last.errors}`,
  ];
  if (last.inFlight !== undefined) parts.push(`in flight ${last.inFlight}`);
  if (last.total > 0) {
    const percent = Math.floor((100 * last.read) / last.total);
    const speed = rate(first.read, last.read);
    const left = last.total - last.read;
    parts.push(`read ${percent}%${left > 0 && speed > 0 ? ` ETA ${duration((1000 * left) / speed)}` : ''}`);
  }
  if (last.streamed > 0) parts.push(`read ${last.unit === 'bytes' ? bytes(last.streamed) : count(last.streamed)}`);
  return parts.join(' | ');
}

/** Options of {@link ProgressLine}. */
export interface ProgressOptions {
  /** The network whose counters are shown. */
  network: ProgressTarget;
  /** Where the line is drawn. */
  line: StatusLine;
  /** Where time and the refresh timer come from (the network's scheduler; a `TestScheduler` in specs). */
  scheduler: SchedulerLike;
  /** Refresh period in ms; default 250 (at most 4 times a second). */
  interval?: number;
  /** Rates are measured over this much recent time, in ms; default 1000. */
  window?: number;
}

/** The fastest the progress line refreshes: 4 times a second. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * The status line of a long `tributary run`: elapsed time, events per second into and out of
 * the network, errors, events in flight and, for file sources, the percentage read and an
 * ETA; redrawn every `interval` on the scheduler, erased by `stop()`.
 *
 * @example
 * ```ts
 * const progress = new ProgressLine({ network: net, line: new StatusLine(process.stderr), scheduler: net.scheduler });
 * progress.start();
 * await net.done();
 * progress.stop();
 * ```
 */
export class ProgressLine {
  private timer?: Subscription;
  private samples: ProgressSample[] = [];
  private startedAt = 0;
  private draining = false;

  constructor(private readonly options: ProgressOptions) {}

  /** Draws the first line now and refreshes it every interval. */
  start(): void {
    const { scheduler } = this.options;
    const interval = this.options.interval ?? PROGRESS_INTERVAL_MS;
    this.startedAt = scheduler.now();
    this.samples = [sampleNetwork(this.options.network, this.startedAt)];
    this.render();
    const refresh = () => this.refresh();
    this.timer = scheduler.schedule(function () {
      refresh();
      this.schedule(undefined, interval);
    }, interval);
  }

  /** Marks the line as draining (after a signal, `--for` or the sources ending). */
  markDraining(): void {
    this.draining = true;
    this.render();
  }

  /** Takes a sample and redraws. */
  refresh(): void {
    const now = this.options.scheduler.now();
    this.samples.push(sampleNetwork(this.options.network, now));
    const window = this.options.window ?? 1000;
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.samples.length > 2 && this.samples[1].at <= now - window) this.samples.shift();
    this.render();
  }

  /** Stops refreshing and erases the line. */
  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.options.line.clear();
  }

  private render(): void {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    this.options.line.draw(progressText(first, last, this.startedAt) + (this.draining ? ' | draining' : ''));
  }
}

function duration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n >= 10 || n === 0 ? String(Math.round(n)) : n.toFixed(1);
}

function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} kB`;
  return `${n} B`;
}
