import { TestScheduler } from 'rxjs/testing';
import { deepStrictEqual } from 'node:assert';
import { map, Observable, Subject, Subscription, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { parseDuration, type Duration } from '../duration';
import { createEvent, type Event } from '../event';
import type { Network, NetworkReport } from '../network/network';
import { createNodeContext } from '../network/context';
import type { Logger, NodeSpec, NodeStats, SinkNode, SourceNode } from '../nodes/types';
import type { DeliveryProbe } from './deliveries';
import { compareFrames, marks, type Mark } from './frames';

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
  /**
   * The payloads as an observable, each at the frame it arrived, completing when the sink's
   * input completes: `m.expect(out.payloads).toBeObservable('-a-b|', values)` in an
   * rxjs-marbles test. Error events appear as `{ error: message }`.
   */
  readonly payloads: Observable<T>;
}

/**
 * Test helpers for running whole networks under the RxJS `TestScheduler`: sources from
 * marble strings, sinks that record frames, and a clock that runs a network for a virtual
 * duration. Nothing sleeps; ten virtual seconds take microseconds.
 *
 * Give it the scheduler of an rxjs-marbles test (`new VirtualTime(m.scheduler)`) to use the
 * same helpers there: `start()` instead of `run()` (the test flushes), and `m.expect` on a
 * sink's `payloads`.
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

  /** `scheduler`: an existing one, e.g. `m.scheduler` of an rxjs-marbles test; default a new one. */
  constructor(scheduler?: TestScheduler) {
    this.scheduler = scheduler ?? new TestScheduler((actual, expected) => deepStrictEqual(actual, expected));
  }

  /**
   * A source node emitting a cold marble diagram (`-` is 1 ms, `|` completes, time
   * progressions like `500ms` allowed) once the network starts. In an rxjs-marbles test
   * `net.add(name, m.cold(…))` does the same.
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
        const messages = marks(marbles, values, error);
        return new Observable<Event>((subscriber) => {
          const timers = new Subscription();
          for (const m of messages) {
            timers.add(
              scheduler.schedule(() => {
                if (m.kind === 'next') subscriber.next(ctx.event(m.value));
                else if (m.kind === 'error') subscriber.error(m.error);
                else subscriber.complete();
              }, m.frame),
            );
          }
          return timers;
        });
      },
    };
  }

  /**
   * A sink that records each payload with its frame (and acks it; error events are nacked
   * and recorded as `{ error: message }`).
   *
   * @example
   * ```ts
   * const out = t.sink();
   * net.add('out', out.node);
   * ```
   */
  sink<T = unknown>(): MarbleSink<T> {
    const record = recorder<T>(this.scheduler);
    return Object.assign(record, {
      node: {
        role: 'sink',
        kind: 'marbles',
        create: (ctx) => (source) =>
          new Observable<never>((subscriber) =>
            source.subscribe({
              next(e) {
                record.note(e);
                if (e.error) ctx.nack(e, e.error.cause);
                else ctx.ack(e);
              },
              error: (err) => subscriber.error(err),
              complete: () => {
                record.done();
                subscriber.complete();
              },
            }),
          ),
      } satisfies SinkNode,
    });
  }

  /**
   * Starts the network on this clock without flushing it, for use inside a running
   * `TestScheduler.run` (an rxjs-marbles test flushes when its body returns, or at
   * `m.flush()`). With a duration the network is stopped and drained at that time (events
   * due exactly then included); without, it runs until its sources complete.
   *
   * @example
   * ```ts
   * it('doubles', marbles((m) => {
   *   const t = new VirtualTime(m.scheduler);
   *   // … build net on m.scheduler …
   *   t.start(net, '10s');
   *   m.expect(out.payloads).toBeObservable('-a-b 9996ms |', { a: 2, b: 4 });
   * }));
   * ```
   */
  start(net: Network, duration?: Duration): void {
    const ms = duration === undefined ? undefined : parseDuration(duration, 'duration');
    net.startSync();
    if (ms === undefined) return;
    // Nested so it runs after every action due at the same frame that was scheduled earlier.
    this.scheduler.schedule(() => {
      this.scheduler.schedule(() => {
        void net.stop();
      });
    }, ms);
  }

  /**
   * Starts the network on the virtual clock, lets it run for `duration` (events at exactly
   * that time included), then drains it. Returns the stop report. (Inside an rxjs-marbles
   * test, whose scheduler is already running, use {@link start}.)
   *
   * @example
   * ```ts
   * const report = t.run(net, '10s');
   * report.stats.tick_printer.in; // 25
   * ```
   */
  run(net: Network, duration: Duration): NetworkReport {
    if ((this.scheduler as unknown as { runMode?: boolean }).runMode) {
      throw new Error('VirtualTime.run: the scheduler is already running (an rxjs-marbles test?); use t.start(net, duration) there');
    }
    this.scheduler.run(() => this.start(net, duration));
    return net.report();
  }

  /**
   * Asserts a sink saw exactly the marble diagram (frames and values; `|` for completion,
   * checked only when the diagram has one). A mismatch throws an error showing the first
   * differing frame and the frames around it.
   *
   * @example
   * ```ts
   * t.expectFrames(out, '-a-b-|', { a: 1, b: 2 });
   * ```
   */
  expectFrames(sink: MarbleSink, marbles: string, values?: Record<string, unknown>): void {
    const expected = marks(marbles, values);
    const mismatch = compareFrames(
      expected,
      recordedMarks(
        sink,
        expected.some((m) => m.kind === 'complete'),
      ),
    );
    if (mismatch) throw new Error(`expectFrames: ${mismatch.message}`);
  }
}

/**
 * What a sink recorded as marks, for {@link compareFrames}; the completion only when asked.
 *
 * @example
 * ```ts
 * compareFrames(marks('-a|'), recordedMarks(out, true));
 * ```
 */
export function recordedMarks(sink: Pick<MarbleSink, 'frames' | 'completedAt'>, withCompletion = true): Mark[] {
  const out: Mark[] = sink.frames.map((f) => ({ frame: f.frame, kind: 'next', value: f.value }));
  if (withCompletion && sink.completedAt !== undefined) out.push({ frame: sink.completedAt, kind: 'complete' });
  return out;
}

/**
 * The recording half of a marble sink: frames, events, completion and the `payloads`
 * observable; `note(event)` and `done()` feed it. For wrapping nodes of your own.
 *
 * @example
 * ```ts
 * const rec = recorder(m.scheduler);
 * events$.pipe(tap({ next: (e) => rec.note(e), complete: () => rec.done() })).subscribe();
 * m.expect(rec.payloads).toBeObservable('-a|', { a: 1 });
 * ```
 */
export function recorder<T>(scheduler: SchedulerLike): Omit<MarbleSink<T>, 'node'> & { note(e: Event): void; done(): void } {
  const live = new Subject<T>();
  const record = {
    frames: [] as Frame<T>[],
    events: [] as Event[],
    completedAt: undefined as number | undefined,
    payloads: new Observable<T>((subscriber) => {
      // An expectation subscribes at frame 0, maybe after frame-0 events already arrived: replay those.
      const now = scheduler.now();
      for (const f of record.frames) if (f.frame === now) subscriber.next(f.value);
      if (record.completedAt !== undefined) {
        if (record.completedAt === now) subscriber.complete();
        return undefined;
      }
      return live.subscribe(subscriber);
    }),
    note(e: Event) {
      const value = (e.error ? { error: e.error.message } : e.payload) as T;
      record.frames.push({ frame: scheduler.now(), value });
      record.events.push(e);
      live.next(value);
    },
    done() {
      record.completedAt = scheduler.now();
      live.complete();
    },
  };
  return record;
}

/** Options of {@link payloadOperator} and {@link sourcePayloads}. */
export interface MarbleNodeOptions {
  /** The test's scheduler (`m.scheduler`); all of the node's time comes from it. */
  scheduler: SchedulerLike;
  /** Gives each input event a delivery handle this probe watches, to assert acks and nacks. */
  deliveries?: DeliveryProbe<any>;
  /** Counters to fill (read them after the flush). */
  stats?: NodeStats;
  /** Name in error events and logs; default the node's kind. */
  name?: string;
  logger?: Logger;
  /** Services the node looks up (`ctx.service(key)`). */
  services?: ReadonlyMap<string, unknown>;
}

/**
 * A pipeline node as an RxJS operator over payloads, for marble tests: each input value is
 * wrapped into an event (with a watched delivery handle when `deliveries` is given), run
 * through the node on the test's scheduler, and unwrapped. Unlike `toPayloadOperator`, error
 * events stay visible, as `{ error: message }`.
 *
 * @example
 * ```ts
 * it('lets one through per 2 s', marbles((m) => {
 *   const limit = payloadOperator(nodes.ratelimit({ interval: '2s' }), { scheduler: m.scheduler });
 *   m.expect(m.cold('a 999ms b 999ms c|').pipe(limit)).toBeObservable('a 1999ms c|');
 * }));
 * ```
 */
export function payloadOperator<I = unknown, O = unknown>(
  node: NodeSpec,
  options: MarbleNodeOptions,
): OperatorFunction<I, O | { error: string }> {
  if (node.role !== 'pipeline') throw new TypeError(`payloadOperator needs a pipeline node, got a ${node.role} (${node.kind})`);
  const { scheduler, deliveries } = options;
  const op = node.create(createNodeContext(options.name ?? node.kind, options));
  const wrap = (p: I): Event => (deliveries ? deliveries.event(p) : createEvent(p, { time: scheduler.now() }));
  return (source) => op(source.pipe(map(wrap))).pipe(map(unwrap<O>));
}

/**
 * A source node's output as an observable of payloads on the test's scheduler (error events
 * as `{ error: message }`).
 *
 * @example
 * ```ts
 * it('ticks every 500 ms', marbles((m) => {
 *   const ticks = sourcePayloads(nodes.ticker({ interval: '500ms' }), { scheduler: m.scheduler });
 *   m.expect(ticks, '^ 1600ms !').toBeObservable('500ms a 499ms b 499ms c', { a: 500, b: 1000, c: 1500 });
 * }));
 * ```
 */
export function sourcePayloads<O = unknown>(node: NodeSpec, options: MarbleNodeOptions): Observable<O | { error: string }> {
  if (node.role !== 'source') throw new TypeError(`sourcePayloads needs a source node, got a ${node.role} (${node.kind})`);
  return node.create(createNodeContext(options.name ?? node.kind, options)).pipe(map(unwrap<O>));
}

function unwrap<O>(e: Event): O | { error: string } {
  return e.error ? { error: e.error.message } : (e.payload as O);
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
export { DeliveryProbe, type Settled } from './deliveries';
export { marks, compareFrames, sameValue, showMark, type Mark, type FrameMismatch } from './frames';
