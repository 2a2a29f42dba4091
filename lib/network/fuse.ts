import { Observable, Subscriber } from 'rxjs';
import { eventAt, withPayload, type Event } from '../event';
import type { FusableStep } from '../nodes/stage';
import type { NodeContext, NodeProbe } from '../nodes/types';
import { RingQueue } from '../operators/queue';
import { isThenable } from '../util/values';
import { NetworkProbe } from './probe';

const CUSTOM = 0;
const MAP = 1;
const WHERE = 2;
const TAP = 3;
const SINK = 4;
const SHAPES = { map: MAP, where: WHERE, tap: TAP, sink: SINK } as const;

/** One step of a fused run with what it needs per event at hand. */
interface Slot {
  readonly step: FusableStep;
  readonly ctx: NodeContext;
  /** The step's function when it declares one (the fast path), else undefined: `step.call`. */
  readonly fn: ((arg: unknown, event: Event) => unknown) | undefined;
  readonly payloadArg: boolean;
  /** What follows a successful call: one of the built-in shapes inline, or CUSTOM (`step.then`). */
  readonly shape: number;
  /** The node's probe when it may time calls; undefined when timing is off (nothing to count then). */
  readonly probe: NodeProbe | undefined;
  /** The node's counters when it counts what it passes on (pipes and forwarders), else undefined. */
  readonly counter: { out: number } | undefined;
  readonly pass: boolean;
  /** The step can take a bare payload (see {@link FusedSubscriber.nextBare}): a forwarder, or a built-in shape whose function reads the payload only. */
  readonly bare: boolean;
  /** The event whose asynchronous call is under way (concurrency 1: at most one). */
  current: Event | undefined;
  /** Events that reached this step while it was busy, in order. */
  queue: RingQueue<Event> | undefined;
}

/**
 * Runs a chain of fusable steps (see {@link FusableStep}) as ONE subscriber: per event, a
 * loop over the steps with one try/catch, no subscriber, queue or closure per step. A step
 * whose function returns a promise holds that event (and queues the ones reaching it after)
 * until it settles, then the event goes on from the next step: exactly what a chain of
 * concurrency-1 worker pools does, so order, counters, acks and error events are the same.
 *
 * @example
 * ```ts
 * const fused = fuse(input$, [pipeStep(ctxA, fnA, payloadOf, (e, r) => withPayload(e, r)), sinkStep(ctxB, fnB, payloadOf)]);
 * fused.subscribe({ complete: () => console.log('drained') });
 * ```
 */
export function fuse(source: Observable<Event>, steps: readonly FusableStep[]): Observable<Event> {
  return new Observable<Event>((destination) => source.subscribe(new FusedSubscriber(destination, steps)));
}

class FusedSubscriber extends Subscriber<Event> {
  private readonly slots: Slot[];
  private inputDone = false;
  private done = false;
  private readonly out: Subscriber<Event>;

  constructor(destination: Subscriber<Event>, steps: readonly FusableStep[]) {
    // Not passing the destination up: the input completing must not complete it while a step waits.
    super();
    this.out = destination;
    destination.add(this);
    this.slots = steps.map((step) => ({
      step,
      ctx: step.ctx,
      fn: step.fn,
      payloadArg: step.payloadArg === true,
      shape: step.fn !== undefined && step.shape !== undefined ? SHAPES[step.shape] : CUSTOM,
      probe: step.ctx.probe instanceof NetworkProbe && !step.ctx.probe.timing ? undefined : step.ctx.probe,
      counter: step.role === 'sink' ? undefined : step.ctx.stats,
      pass: step.role === 'pass',
      bare: bareStep(step),
      current: undefined,
      queue: undefined,
    }));
    // The leading bare steps, then the event path from the first step that needs the event.
    const firstEventStep = this.slots.findIndex((s) => !s.bare);
    const atEvent = firstEventStep < 0 ? this.slots.length : firstEventStep;
    let head: BareStage = (payload, time) => {
      if (!this.done) this.run(eventAt(payload, time), atEvent);
    };
    for (let i = atEvent - 1; i >= 0; i--) head = bareStage(this, this.slots[i], i, head);
    this.head = head;
  }

  /** The leading bare steps as one chain of closures (see {@link bareStage}). */
  private readonly head: BareStage;

  // `next` itself rather than `_next`: RxJS's shared Subscriber.next dispatches to `_next`
  // through a call site every subscriber class in the process goes through (megamorphic);
  // this way the hop from the source is a direct, inlinable call.
  override next(event: Event): void {
    if (!this.isStopped) this.run(event, 0);
  }

  protected override _next(event: Event): void {
    this.run(event, 0);
  }

  /** A fused run takes bare payloads from its source (see {@link BareReceiver}). */
  readonly acceptsBare = true;

  /**
   * An item of a source that would have made it `eventAt(payload, time)`, with no delivery,
   * key or headers: the leading steps that read only the payload (see {@link Slot.bare}) run on
   * it as it is, and the event is made only where a step needs one (a function that reads the
   * event, a throw, a promise, a busy step, the run's output). What the steps see, count, drop
   * and finish is what they would with the event: it has nothing to ack.
   */
  nextBare(payload: unknown, time: number): void {
    if (!this.isStopped) this.head(payload, time);
  }

  /** Step `i` (bare) threw for `payload`: from here on it is the event path. */
  bareThrew(i: number, payload: unknown, time: number, err: unknown): void {
    const s = this.slots[i];
    const failed = s.step.failed(eventAt(payload, time), err);
    if (failed === undefined) return;
    if (s.counter !== undefined) s.counter.out++;
    this.run(failed, i + 1);
  }

  /** Step `i` (bare) returned a promise for `payload`: hold its event there as {@link run} does. */
  bareWait(i: number, payload: unknown, time: number, result: PromiseLike<unknown>): void {
    this.wait(this.slots[i], i, eventAt(payload, time), result, undefined);
  }

  /** Step `i` (bare) is busy with an earlier event: `payload` waits behind it as an event. */
  bareQueue(i: number, payload: unknown, time: number): void {
    const s = this.slots[i];
    (s.queue ??= new RingQueue<Event>()).push(eventAt(payload, time));
  }

  protected override _error(err: unknown): void {
    this.fail(err);
  }

  protected override _complete(): void {
    this.inputDone = true;
    this.maybeComplete();
  }

  override unsubscribe(): void {
    if (this.closed) return;
    this.done = true;
    // Cut off: every event still held is given back, the last steps' first (as the pools
    // of an unfused chain are torn down from the sink up).
    for (let i = this.slots.length - 1; i >= 0; i--) {
      const s = this.slots[i];
      if (s.current !== undefined) s.step.discard(s.current);
      s.current = undefined;
      if (s.queue) for (let e = s.queue.shift(); e !== undefined; e = s.queue.shift()) s.step.discard(e);
    }
    super.unsubscribe();
  }

  /** Takes `event` through the steps from `i` on, then passes what is left downstream. */
  private run(event: Event, i: number): void {
    const slots = this.slots;
    const n = slots.length;
    let timed: (() => void) | undefined;
    let current: Event | undefined = event;
    while (i < n) {
      try {
        for (; i < n; i++) {
          const s = slots[i];
          // Busy with an asynchronous call: wait behind it. (Its queue is only ever non-empty
          // while it is busy or being drained right here, which nothing can re-enter: a
          // network has no cycles.)
          if (s.current !== undefined) {
            (s.queue ??= new RingQueue<Event>()).push(current);
            return;
          }
          if (current.error !== undefined || s.pass) {
            current = s.step.onError(current);
          } else {
            if (s.probe !== undefined) timed = s.probe.sample();
            const fn = s.fn;
            const result = fn !== undefined ? fn(s.payloadArg ? current.payload : current, current) : s.step.call(current);
            // typeof first: a number or boolean result never reaches the `then` lookup.
            if (
              (typeof result === 'object' || typeof result === 'function') &&
              result !== null &&
              typeof (result as PromiseLike<unknown>).then === 'function'
            ) {
              this.wait(s, i, current, result as PromiseLike<unknown>, timed);
              return;
            }
            if (timed !== undefined) {
              timed();
              timed = undefined;
            }
            // The built-in shapes inline (they are what their steps' `then` does).
            switch (s.shape) {
              case MAP:
                current = withPayload(current, result);
                break;
              case WHERE:
                if (!result) {
                  s.ctx.drop(current);
                  current = undefined;
                }
                break;
              case TAP:
                break;
              case SINK:
                s.ctx.probe.finished();
                s.ctx.ack(current);
                current = undefined;
                break;
              default:
                current = s.step.then(current, result);
            }
          }
          if (current === undefined) return;
          if (s.counter !== undefined) s.counter.out++;
        }
      } catch (err) {
        // `current` is still step i's input: the throwing call never returned.
        if (timed !== undefined) {
          timed();
          timed = undefined;
        }
        const s = slots[i];
        current = s.step.failed(current!, err);
        if (current === undefined) return;
        if (s.counter !== undefined) s.counter.out++;
        i++;
      }
    }
    if (!this.done) this.out.next(current);
  }

  /** Step `i` went asynchronous for `event`: hold it there until the promise settles. */
  private wait(s: Slot, i: number, event: Event, result: PromiseLike<unknown>, timed: (() => void) | undefined): void {
    s.current = event;
    const running = s.step.running;
    running.n++;
    result.then(
      (r) => {
        running.n--;
        timed?.();
        this.settle(s, i, event, r, false);
      },
      (err: unknown) => {
        running.n--;
        timed?.();
        this.settle(s, i, event, err, true);
      },
    );
  }

  private settle(s: Slot, i: number, event: Event, value: unknown, rejected: boolean): void {
    // Cut off meanwhile: the event was given back already.
    if (this.done || s.current !== event) return;
    try {
      s.current = undefined;
      let next: Event | undefined;
      if (rejected) next = s.step.failed(event, value);
      else {
        try {
          next = s.step.then(event, value);
        } catch (err) {
          next = s.step.failed(event, err);
        }
      }
      if (next !== undefined) {
        if (s.counter !== undefined) s.counter.out++;
        this.run(next, i + 1);
      }
      // The events that waited at this step, in order, until one goes asynchronous again.
      const queue = s.queue;
      while (queue !== undefined && !this.done && s.current === undefined && queue.length > 0) this.run(queue.shift()!, i);
      this.maybeComplete();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.out.error(err);
  }

  private maybeComplete(): void {
    if (this.done || !this.inputDone) return;
    for (const s of this.slots) if (s.current !== undefined || (s.queue !== undefined && s.queue.length > 0)) return;
    this.done = true;
    this.out.complete();
  }
}

/** Runs a bare payload (and its event time) from one step on. */
type BareStage = (payload: unknown, time: number) => void;

/**
 * True when a step can run on a bare payload: a forwarder, or a built-in shape whose function
 * reads only the payload. A node whose calls are timed (metrics with sampling) takes the event
 * path, which times them.
 */
function bareStep(step: FusableStep): boolean {
  if (step.ctx.probe instanceof NetworkProbe ? step.ctx.probe.timing : true) return false;
  return (
    step.role === 'pass' || (step.fn !== undefined && step.shape !== undefined && step.payloadArg === true && step.payloadOnly === true)
  );
}

/**
 * Step `i` of a fused run as a closure calling `next`: one small function per step and shape,
 * so each call site sees one function (V8 can inline it) where a loop over the steps would see
 * them all. Each does what the event loop in {@link FusedSubscriber} does for that shape.
 */
function bareStage(run: FusedSubscriber, s: Slot, i: number, next: BareStage): BareStage {
  const fn = s.fn as (payload: unknown) => unknown;
  const counter = s.counter;
  const stats = s.ctx.stats;
  const probe = s.ctx.probe;
  if (s.pass) {
    return (payload, time) => {
      if (s.current !== undefined) return run.bareQueue(i, payload, time);
      counter!.out++;
      next(payload, time);
    };
  }
  switch (s.shape) {
    case MAP:
      return (payload, time) => {
        if (s.current !== undefined) return run.bareQueue(i, payload, time);
        let r: unknown;
        try {
          r = fn(payload);
        } catch (err) {
          return run.bareThrew(i, payload, time, err);
        }
        if (isThenable(r)) return run.bareWait(i, payload, time, r);
        counter!.out++;
        next(r, time);
      };
    case WHERE:
      return (payload, time) => {
        if (s.current !== undefined) return run.bareQueue(i, payload, time);
        let r: unknown;
        try {
          r = fn(payload);
        } catch (err) {
          return run.bareThrew(i, payload, time, err);
        }
        if (isThenable(r)) return run.bareWait(i, payload, time, r);
        // What ctx.drop does for an event without a delivery handle.
        if (!r) stats.dropped++;
        else {
          counter!.out++;
          next(payload, time);
        }
      };
    case TAP:
      return (payload, time) => {
        if (s.current !== undefined) return run.bareQueue(i, payload, time);
        let r: unknown;
        try {
          r = fn(payload);
        } catch (err) {
          return run.bareThrew(i, payload, time, err);
        }
        if (isThenable(r)) return run.bareWait(i, payload, time, r);
        counter!.out++;
        next(payload, time);
      };
    default:
      // SINK: what it passes on is nothing; an event without a delivery has nothing to ack.
      return (payload, time) => {
        if (s.current !== undefined) return run.bareQueue(i, payload, time);
        let r: unknown;
        try {
          r = fn(payload);
        } catch (err) {
          return run.bareThrew(i, payload, time, err);
        }
        if (isThenable(r)) return run.bareWait(i, payload, time, r);
        probe.finished();
      };
  }
}
