import type { OperatorFunction, Subscription } from 'rxjs';
import type { Delivery } from '../delivery';
import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { CUT_OFF } from '../nodes/stage';
import type { NodeContext, StateHandle } from '../nodes/types';
import type { Checkpointable } from '../state/types';
import type { EngineEnv, WindowEngine } from './engine';
import { eventTimeReader, keyId, keyReader, type KeyFn } from './fields';

/**
 * Why an event was not absorbed: it came after its window (and `allowedLateness`) closed.
 * Late events leave the window node as error events with this cause, so `net.routeErrors`
 * (Lua `route_errors`) sends them to a node of your choice as {@link DeadLetter}s whose
 * `code` is `LATE_EVENT` (and whose `error` starts with "late event").
 *
 * @example
 * ```ts
 * net.routeErrors('bets_per_minute', 'late_bets'); // late_bets gets { error: 'late event: …', code: 'LATE_EVENT', node, payload }
 * ```
 */
export class LateEventError extends Error {
  override readonly name = 'LateEventError';
  /** A word a program can test, like TributaryError's codes. */
  readonly code = 'LATE_EVENT';
  constructor(
    readonly eventTime: number,
    readonly watermark: number,
    readonly allowedLateness: number,
  ) {
    super(
      `late event: event time ${eventTime} is behind the watermark ${watermark} by more than allowedLateness ${allowedLateness}ms; its window has closed`,
    );
  }
}

/** The resolved options the shell reads (see `windowFields`). */
export interface ShellSettings {
  key?: string | KeyFn;
  emit: 'close' | 'update';
  time: 'event' | 'processing';
  timeField?: string;
  timeUnit: 'ms' | 's' | 'iso';
  maxOutOfOrderness: number;
  allowedLateness: number;
  idleTimeout?: number;
  endOfInput: 'fire' | 'keep';
}

/** The checkpoint entry of the watermark (window entries are JSON arrays, so no clash). */
const WATERMARK_ENTRY = '~watermark';

/**
 * The operator every event-time window node runs: reads each event's time and key, keeps the
 * watermark (largest event time seen − `maxOutOfOrderness`), hands events to the window
 * engine, turns late ones into {@link LateEventError} error events, advances the watermark to
 * +∞ when the input completes (every open window fires), and runs the scheduler timers of
 * processing-time windows and of `idleTimeout`. Window state is registered for checkpoints
 * with `ctx.registerState` when the network takes them; then absorbed events are settled by
 * the checkpoint, otherwise their delivery handles travel with the results that include them.
 *
 * @example
 * ```ts
 * create: (ctx) => windowOperator(ctx, o, (env) => keyedWindows({ kind: 'aligned', size, advance: size }, agg, env, keyId)),
 * ```
 */
export function windowOperator(
  ctx: NodeContext,
  o: ShellSettings,
  makeEngine: (env: EngineEnv) => WindowEngine,
): OperatorFunction<Event, Event> {
  const where = `node '${ctx.name}'`;
  const processing = o.time === 'processing';
  const timeOf = eventTimeReader(o, where);
  const keyOf = keyReader(o.key, where);
  const ooo = o.maxOutOfOrderness;
  const lateness = processing ? 0 : o.allowedLateness;
  const idle = processing ? undefined : o.idleTimeout;
  const counts = { late: 0 };
  // The live engine and watermark of the current subscription (checkpoints read them).
  const live: {
    engine?: WindowEngine;
    wm: number;
    maxT: number;
    restored?: Array<[string, unknown]>;
    apply?: (entries: Array<[string, unknown]>) => void;
  } = { wm: -Infinity, maxT: -Infinity };
  const state: Checkpointable = {
    stateName: ctx.name,
    takeChanges() {
      const changes = live.engine?.takeChanges() ?? { put: [], delete: [] };
      changes.put.push([WATERMARK_ENTRY, { wm: saveTime(live.wm), maxT: saveTime(live.maxT) }]);
      return changes;
    },
    restore(entries) {
      // Before the node runs (the usual case) it is kept for the subscription; if the
      // coordinator restores after the subscription began (before any event), it applies now.
      if (live.apply) live.apply([...entries]);
      else live.restored = [...entries];
    },
  };
  const settle = ctx.registerState?.(state) as CheckpointHandle | undefined;
  ctx.probe.gauge('late_events', 'events that came after their window closed (sent on as late-event errors)', () => counts.late);
  ctx.probe.gauge('open_windows', 'windows (or sliding entries) held in memory', () => live.engine?.size() ?? 0);
  ctx.probe.gauge('watermark_ms', 'the watermark, ms (event time up to which windows have fired)', () =>
    Number.isFinite(live.wm) ? live.wm : 0,
  );

  return operate<Event, Event>((out, source) => {
    const env: EngineEnv = {
      hold: settle === undefined,
      track: settle !== undefined,
      eager: o.emit === 'update',
      lateness,
      fail: (cause, payload, delivery) => out.next(ctx.fail(ctx.event(payload, { delivery }), cause)),
      emit: (payload, time, key, delivery: Delivery | undefined) => {
        out.next(
          ctx.event(payload, {
            time,
            key: key === null || key === undefined ? undefined : typeof key === 'string' ? key : JSON.stringify(key),
            delivery,
          }),
        );
      },
    };
    const engine = makeEngine(env);
    live.engine = engine;
    let wm = -Infinity;
    let maxT = -Infinity;
    const apply = (entries: Array<[string, unknown]>) => {
      const saved = entries.find(([k]) => k === WATERMARK_ENTRY)?.[1] as { wm: SavedTime; maxT: SavedTime } | undefined;
      engine.restore(entries.filter(([k]) => k !== WATERMARK_ENTRY));
      wm = loadTime(saved?.wm);
      maxT = loadTime(saved?.maxT);
      live.wm = wm;
      live.maxT = maxT;
      engine.wm = wm;
    };
    if (live.restored) apply(live.restored);
    live.restored = undefined;
    live.apply = apply;
    const setWm = (w: number) => {
      wm = w;
      live.wm = w;
      // The engine reads its watermark for lateness; firing only when something is due.
      engine.wm = w;
      if (w >= engine.nextDue()) engine.advance(w);
    };

    // Timers: processing-time windows wake at their next end; idle inputs after idleTimeout.
    let timer: Subscription | undefined;
    let timerAt = Infinity;
    let lastArrival = 0;
    let idling = false;
    const arm = (at: number, fn: () => void) => {
      timer?.unsubscribe();
      timerAt = at;
      timer = ctx.scheduler.schedule(fn, Math.max(0, at - ctx.scheduler.now()));
    };
    const wakeProcessing = () => {
      timer = undefined;
      timerAt = Infinity;
      const now = ctx.scheduler.now();
      if (now > wm) setWm(now);
      const next = engine.nextDue();
      if (next !== Infinity) arm(next, wakeProcessing);
    };
    const wakeIdle = () => {
      timer = undefined;
      timerAt = Infinity;
      const now = ctx.scheduler.now();
      if (now - lastArrival < idle!) return arm(lastArrival + idle!, wakeIdle);
      // Idle: the input's event time is taken to keep pace with the clock since its last event.
      idling = true;
      const base = maxT - ooo;
      const w = base + (now - lastArrival);
      if (w > wm) setWm(w);
      const next = engine.nextDue();
      if (next !== Infinity) arm(lastArrival + (next - base), wakeIdle);
    };

    // Any event (on time, late or bad) shows the input is not idle.
    const arrived = () => {
      lastArrival = ctx.scheduler.now();
      if (idling) {
        idling = false;
        timer?.unsubscribe();
        timer = undefined;
        timerAt = Infinity;
      }
      if (timer === undefined) arm(lastArrival + idle!, wakeIdle);
    };

    source.subscribe(
      handle(out, {
        next(e) {
          if (e.error) {
            settle?.skipped?.(e);
            return out.next(e);
          }
          if (idle !== undefined) arrived();
          let t: number;
          let key: unknown = null;
          try {
            t = processing ? ctx.scheduler.now() : timeOf(e);
            if (keyOf) key = keyOf(e.payload);
          } catch (err) {
            settle?.skipped?.(e);
            return out.next(ctx.fail(e, err));
          }
          if (settle?.admit && !settle.admit(e)) {
            // A redelivery the restored state already includes: no effect, settled with the state.
            settle.settleAfterCheckpoint(e);
            return;
          }
          if (processing && t > wm) setWm(t);
          let absorbed: boolean;
          try {
            absorbed = engine.add(key, keyOf ? keyId(key) : null, t, e);
          } catch (err) {
            settle?.skipped?.(e);
            return out.next(ctx.fail(e, err));
          }
          if (!absorbed) {
            counts.late++;
            settle?.skipped?.(e);
            return out.next(ctx.fail(e, new LateEventError(t, wm, lateness)));
          }
          if (settle) settle.settleAfterCheckpoint(e);
          if (processing) {
            const next = engine.nextDue();
            if (next < timerAt) arm(next, wakeProcessing);
            return;
          }
          if (t > maxT) {
            maxT = t;
            live.maxT = t;
            if (t - ooo > wm) setWm(t - ooo);
          }
        },
        complete() {
          timer?.unsubscribe();
          timer = undefined;
          // A finite input is over: nothing can come any more, every open window fires. Unless
          // the windows are kept for a restart: then the checkpoint at the drain saves them.
          if (o.endOfInput === 'fire') setWm(Infinity);
          out.complete();
        },
        finalize() {
          timer?.unsubscribe();
          if (live.apply === apply) live.apply = undefined;
          engine.cutOff(CUT_OFF);
        },
      }),
    );
  });
}

/**
 * The state handle, with the redelivery checks a checkpointing network may add (`admit`: false
 * for an event the restored state already includes; `skipped`: an event whose effect was not
 * applied). Optional here, so the windows work with handles that lack them.
 */
type CheckpointHandle = StateHandle & { admit?(event: Event): boolean; skipped?(event: Event): void };

/** A time as JSON keeps it: JSON has no ±Infinity. */
type SavedTime = number | 'inf' | null;
const saveTime = (t: number): SavedTime => (Number.isFinite(t) ? t : t > 0 ? 'inf' : null);
const loadTime = (t: SavedTime | undefined): number => (typeof t === 'number' ? t : t === 'inf' ? Infinity : -Infinity);

/**
 * The map key of a window key: re-exported for engines restoring checkpoints.
 *
 * @example
 * ```ts
 * keyedWindows(shape, agg, env, windowKeyId);
 * ```
 */
export const windowKeyId = keyId;
