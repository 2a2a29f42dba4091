import { TestScheduler } from 'rxjs/testing';
import { deepStrictEqual } from 'node:assert';
import { Observable, Subscription } from 'rxjs';
import { parseDuration, type Duration } from '../duration';
import type { Event } from '../event';
import type { Network, NetworkReport } from '../network/network';
import type { SinkNode, SourceNode } from '../nodes/types';

/** One recorded emission: the virtual frame (ms) and what was seen. */
export interface Frame<T = unknown> {
  frame: number;
  value: T;
}

/** What a marble sink recorded. */
export interface MarbleSink<T = unknown> {
  /** Add it to the network under a name. */
  readonly node: SinkNode;
  /** Payloads with the frame they arrived in. */
  readonly frames: Frame<T>[];
  /** The events themselves (metadata, error state). */
  readonly events: Event[];
  /** Frame at which the sink's input completed, if it did. */
  completedAt?: number;
}

/**
 * Test helpers for running whole networks under the RxJS `TestScheduler`: sources from
 * marble strings, sinks that record frames, and a clock that runs a network for a virtual
 * duration. Nothing sleeps; ten virtual seconds take microseconds.
 *
 * @example
 * ```ts
 * const t = new VirtualTime();
 * const net = new Network({ scheduler: t.scheduler });
 * net.add('in', t.source('-a-b-|', { a: 1, b: 2 }));
 * const out = t.sink();
 * net.add('out', out.node);
 * net.link('in', 'out');
 * t.run(net, '10ms');
 * t.expectFrames(out, '-a-b-|', { a: 1, b: 2 });
 * ```
 */
export class VirtualTime {
  readonly scheduler: TestScheduler;

  constructor() {
    this.scheduler = new TestScheduler((actual, expected) => deepStrictEqual(actual, expected));
  }

  /**
   * A source node emitting a cold marble diagram (`-` is 1 ms, `|` completes, time
   * progressions like `500ms` allowed) once the network starts.
   *
   * @example
   * ```ts
   * net.add('bets', t.source('a 999ms b|', { a: { stake: 5 }, b: { stake: 100 } }));
   * ```
   */
  source(marbles: string, values?: Record<string, unknown>, error?: unknown): SourceNode {
    const scheduler = this.scheduler;
    return {
      role: 'source',
      kind: 'marbles',
      create: (ctx) => {
        const messages = parseRunMode(marbles, values, error);
        return new Observable<Event>((subscriber) => {
          const timers = new Subscription();
          for (const { frame, notification: n } of messages) {
            timers.add(
              scheduler.schedule(() => {
                if (n.kind === 'N') subscriber.next(ctx.event(n.value));
                else if (n.kind === 'E') subscriber.error(n.error);
                else subscriber.complete();
              }, frame),
            );
          }
          return timers;
        });
      },
    };
  }

  /**
   * A sink that records each payload with its frame (and acks it).
   *
   * @example
   * ```ts
   * const out = t.sink();
   * net.add('out', out.node);
   * ```
   */
  sink<T = unknown>(): MarbleSink<T> {
    const scheduler = this.scheduler;
    const record: MarbleSink<T> = {
      frames: [],
      events: [],
      node: {
        role: 'sink',
        kind: 'marbles',
        create: (ctx) => (source) =>
          new Observable<never>((subscriber) =>
            source.subscribe({
              next(e) {
                // Error events are recorded as { error: message } so tests can assert on them.
                const value = (e.error ? { error: e.error.message } : e.payload) as T;
                record.frames.push({ frame: scheduler.now(), value });
                record.events.push(e);
                if (e.error) ctx.nack(e, e.error.cause);
                else ctx.ack(e);
              },
              error: (err) => subscriber.error(err),
              complete: () => {
                record.completedAt = scheduler.now();
                subscriber.complete();
              },
            }),
          ),
      },
    };
    return record;
  }

  /**
   * Starts the network on the virtual clock, lets it run for `duration` (events at exactly
   * that time included), then drains it. Returns the stop report.
   *
   * @example
   * ```ts
   * const report = t.run(net, '10s');
   * report.stats.tick_printer.in; // 25
   * ```
   */
  run(net: Network, duration: Duration): NetworkReport {
    const ms = parseDuration(duration, 'duration');
    this.scheduler.run(() => {
      net.startSync();
      // Nested so it runs after every action due at the same frame that was scheduled earlier.
      this.scheduler.schedule(() => {
        this.scheduler.schedule(() => {
          void net.stop();
        });
      }, ms);
    });
    return net.report();
  }

  /**
   * Asserts a sink saw exactly the marble diagram (frames and values; `|` for completion).
   *
   * @example
   * ```ts
   * t.expectFrames(out, '-a-b-|', { a: 1, b: 2 });
   * ```
   */
  expectFrames(sink: MarbleSink, marbles: string, values?: Record<string, unknown>): void {
    const expected = parseRunMode(marbles, values).map((m) =>
      m.notification.kind === 'C'
        ? { frame: m.frame, value: '|' }
        : { frame: m.frame, value: (m.notification as { value?: unknown }).value },
    );
    const actual: Frame[] = [...sink.frames];
    if (sink.completedAt !== undefined && marbles.includes('|')) actual.push({ frame: sink.completedAt, value: '|' });
    deepStrictEqual(actual, expected);
  }
}

/**
 * Parses a marble diagram with run-mode timing (one character = 1 ms) whether or not a
 * `TestScheduler.run` callback is active: outside one, RxJS would count 10 ms per character.
 */
function parseRunMode(marbles: string, values?: Record<string, unknown>, error?: unknown) {
  const factor = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return TestScheduler.parseMarbles(marbles, values, error, false, true);
  } finally {
    TestScheduler.frameTimeFactor = factor;
  }
}

/**
 * A text output that keeps what was written, for the `tester` and `printer` sinks; with a
 * scheduler it also records the frame of each write.
 *
 * @example
 * ```ts
 * const out = textRecorder(t.scheduler);
 * net.add('tick_printer', nodes.tester({ indicator: '.', output: out }));
 * // … out.text === '.....', out.writes[0].frame === 500
 * ```
 */
export function textRecorder(scheduler?: { now(): number }): { write(text: string): void; text: string; writes: Frame<string>[] } {
  const rec = {
    text: '',
    writes: [] as Frame<string>[],
    write(text: string) {
      rec.text += text;
      rec.writes.push({ frame: scheduler ? scheduler.now() : 0, value: text });
    },
  };
  return rec;
}
export * from './lua';
export { VirtualClock, type Settles } from './clock';
