import { forkDelivery, joinDeliveries, type Delivery } from '../delivery';
import type { Event } from '../event';
import type { Aggregator } from './aggregate';
import { DueQueue } from './due-queue';
import type { EngineEnv, WindowEngine } from './engine';

/** Window open, waiting for the watermark to reach its end. */
const OPEN = 0;
/** Fired; kept for `allowedLateness` so late events update it. */
const FIRED = 1;
/** Purged (or merged into another session). */
const GONE = 2;

interface Win {
  key: unknown;
  /** Its key's state (windows of one key share it). */
  ks: KeyState;
  start: number;
  end: number;
  acc: unknown;
  count: number;
  /** When the watermark next matters to it: its end while open, end + lateness once fired. */
  due: number;
  phase: number;
  /** Delivery handles of absorbed events whose result has not gone out yet. */
  deliveries: Delivery[] | undefined;
  /** The checkpoint entry it was last saved under. */
  saved: string | undefined;
}

/**
 * Per key. Aligned windows: `last` is the window used last; with one window open (tumbling, in
 * order) that is all, and no Map is made; once a key has two, `wins` holds every one by start.
 * Sessions: `sessions`, by start.
 */
interface KeyState {
  wins: Map<number, Win> | undefined;
  last: Win | undefined;
  sessions: Win[];
  /** The sweep generation since which it holds no window; -1 while it holds some. */
  emptySince: number;
}

/** Most purged windows kept for reuse. */
const POOL = 65_536;

/** Empty key states are swept when there are more than this many (and more than half the keys). */
const SWEEP_AT = 1024;

/** The sessions list of keys of aligned windows (never written to). */
const NO_SESSIONS: Win[] = [];

/** What a window is saved as in a checkpoint. */
interface SavedWin {
  key: unknown;
  start: number;
  end: number;
  acc: unknown;
  count: number;
  phase: number;
}

/** Tumbling (size = advance), hopping (advance < size), aligned to Unix time 0. */
export interface AlignedShape {
  kind: 'aligned';
  size: number;
  advance: number;
}

/** Session windows closing after `gap` without events of their key. */
export interface SessionShape {
  kind: 'session';
  gap: number;
}

/**
 * The engine of tumbling, hopping and session windows: per key a Map of windows, a due queue
 * of window ends for the watermark, accumulators updated in place.
 *
 * @example
 * ```ts
 * const engine = keyedWindows({ kind: 'aligned', size: 10_000, advance: 10_000 }, aggregator({ maxItems: 10 }, 'w'), env, keyId);
 * engine.add('c1', 'c1', 1500, event); // true: absorbed
 * engine.advance(10_000);              // fires [0, 10000) of 'c1'
 * ```
 */
export function keyedWindows(
  shape: AlignedShape | SessionShape,
  agg: Aggregator,
  env: EngineEnv,
  idOf: (k: unknown) => unknown,
): WindowEngine {
  return new KeyedWindows(shape, agg, env, idOf);
}

class KeyedWindows implements WindowEngine {
  wm = -Infinity;
  private readonly keys = new Map<unknown, KeyState>();
  private readonly queue = new DueQueue<Win>();
  private readonly dirty = new Set<Win>();
  private readonly deleted = new Set<string>();
  private open = 0;
  /** Purged aligned windows, for reuse. */
  private readonly free: Win[] = [];
  private emptyKeys = 0;
  private generation = 0;

  constructor(
    private readonly shape: AlignedShape | SessionShape,
    private readonly agg: Aggregator,
    private readonly env: EngineEnv,
    private readonly idOf: (k: unknown) => unknown,
  ) {}

  add(key: unknown, id: unknown, t: number, e: Event): boolean {
    return this.shape.kind === 'aligned' ? this.addAligned(this.shape, key, id, t, e) : this.addSession(this.shape.gap, key, id, t, e);
  }

  private keyState(key: unknown, id: unknown): KeyState {
    let ks = this.keys.get(id);
    if (!ks) {
      ks = { wins: undefined, last: undefined, sessions: this.shape.kind === 'session' ? [] : NO_SESSIONS, emptySince: -1 };
      this.keys.set(id, ks);
    } else if (ks.emptySince >= 0) {
      ks.emptySince = -1;
      this.emptyKeys--;
    }
    return ks;
  }

  /**
   * A key's last window went: its state stays for a while (keys usually come back in the
   * next window, and deleting and re-adding thousands of Map entries every window is slow);
   * a sweep drops the states that stayed empty since the sweep before.
   */
  private emptied(ks: KeyState): void {
    ks.emptySince = this.generation;
    this.emptyKeys++;
  }

  private sweep(): void {
    if (this.emptyKeys < SWEEP_AT || this.emptyKeys * 2 < this.keys.size) return;
    for (const [id, ks] of this.keys) {
      if (ks.emptySince >= 0 && ks.emptySince < this.generation) {
        this.keys.delete(id);
        this.emptyKeys--;
      }
    }
    this.generation++;
  }

  private addAligned(shape: AlignedShape, key: unknown, id: unknown, t: number, e: Event): boolean {
    const { size, advance } = shape;
    const lateness = this.env.lateness;
    const lastStart = Math.floor(t / advance) * advance;
    // Every window containing t ends by lastStart + size; if even that one is purged, t is late.
    if (lastStart + size + lateness <= this.wm) return false;
    const ks = this.keyState(key, id);
    if (size === advance) {
      // Tumbling: one window; the key's last window is almost always it.
      let w = ks.last;
      if (w === undefined || w.start !== lastStart) {
        w = ks.wins?.get(lastStart);
        if (w === undefined) {
          // Fold first: a bad value must not leave an empty window behind.
          const acc = this.agg.add(this.agg.init(), e.payload);
          w = this.create(ks, key, lastStart, lastStart + size, acc);
          w.count = 1;
          ks.last = w;
          this.absorbed(w, e.delivery);
          return true;
        }
        ks.last = w;
      }
      w.acc = this.agg.add(w.acc, e.payload);
      w.count++;
      this.absorbed(w, e.delivery);
      return true;
    }
    // Hopping: the event goes into every window still kept among those containing t, or into
    // none. Check the value and each window's room first, then fold into all of them before
    // storing or creating anything: a throw (a bad value, a full collect window, a reduce that
    // fails for one window's accumulator) leaves every window as it was.
    this.agg.check?.(e.payload);
    const starts: number[] = [];
    const found: (Win | undefined)[] = [];
    for (let s = lastStart; s > t - size; s -= advance) {
      if (s + size + lateness <= this.wm) break;
      const w = ks.last?.start === s ? ks.last : ks.wins?.get(s);
      if (w !== undefined) this.agg.room?.(w.acc);
      starts.push(s);
      found.push(w);
    }
    const accs = found.map((w) => this.agg.add(w !== undefined ? w.acc : this.agg.init(), e.payload));
    const wins: Win[] = found.map((w, i) => w ?? this.create(ks, key, starts[i], starts[i] + size, accs[i]));
    for (let i = 0; i < wins.length; i++) {
      wins[i].acc = accs[i];
      wins[i].count++;
    }
    const parts = e.delivery && this.env.hold ? forkDelivery(e.delivery, wins.length) : undefined;
    for (let i = 0; i < wins.length; i++) this.absorbed(wins[i], parts?.[i]);
    return true;
  }

  /** A window of `key` over [start, end) holding `acc` (already folded: its callers fold first, so a throw creates nothing). */
  private create(ks: KeyState, key: unknown, start: number, end: number, acc: unknown): Win {
    // Purged windows are reused: a window lives as long as its time span, long enough to be
    // promoted by the garbage collector, so fresh ones for every key and span cost far more.
    let w = this.free.pop();
    if (w === undefined) {
      w = { key, ks, start, end, acc, count: 0, due: end, phase: OPEN, deliveries: undefined, saved: undefined };
    } else {
      w.key = key;
      w.ks = ks;
      w.start = start;
      w.end = end;
      w.acc = acc;
      w.count = 0;
      w.due = end;
      w.phase = OPEN;
      w.deliveries = undefined;
      w.saved = undefined;
    }
    if (this.shape.kind === 'aligned') this.place(ks, w);
    this.open++;
    if (end <= this.wm) {
      // Only while allowedLateness keeps it: created after its time, it is as if fired already.
      w.phase = FIRED;
      w.due = end + this.env.lateness;
    }
    this.queue.push(w.due, w);
    return w;
  }

  /** Files a new aligned window under its key. */
  private place(ks: KeyState, w: Win): void {
    if (ks.wins === undefined && ks.last === undefined) {
      ks.last = w;
      return;
    }
    if (ks.wins === undefined) {
      ks.wins = new Map();
      ks.wins.set(ks.last!.start, ks.last!);
    }
    ks.wins.set(w.start, w);
    ks.last = w;
  }

  /** An event went into `w`: emit now (update mode, or a window already fired) or hold its delivery. */
  private absorbed(w: Win, delivery: Delivery | undefined): void {
    if (this.env.track) this.dirty.add(w);
    if (this.env.eager || w.phase === FIRED) {
      this.emit(
        w,
        this.env.hold
          ? joinDeliveries(w.deliveries ? [...w.deliveries.splice(0), ...(delivery ? [delivery] : [])] : delivery ? [delivery] : [])
          : undefined,
      );
      return;
    }
    if (delivery && this.env.hold) (w.deliveries ??= []).push(delivery);
  }

  private addSession(gap: number, key: unknown, id: unknown, t: number, e: Event): boolean {
    const ks = this.keyState(key, id);
    const sessions = ks.sessions;
    let start = t;
    let end = t + gap;
    let first = -1;
    let n = 0;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      if (s.start < t + gap && t < s.end) {
        if (first < 0) first = i;
        n++;
        if (s.start < start) start = s.start;
        if (s.end > end) end = s.end;
      } else if (first >= 0) break;
    }
    if (end + this.env.lateness <= this.wm) {
      if (sessions.length === 0) this.emptied(ks);
      return false;
    }
    let acc = this.agg.add(this.agg.init(), e.payload);
    let w: Win;
    if (n === 0) {
      w = { key, ks, start, end, acc, count: 1, due: end, phase: OPEN, deliveries: undefined, saved: undefined };
      let at = 0;
      while (at < sessions.length && sessions[at].start < start) at++;
      sessions.splice(at, 0, w);
      this.open++;
    } else {
      const merged = sessions.splice(first, n);
      w = merged[0];
      for (let i = 1; i < merged.length; i++) {
        const m = merged[i];
        acc = this.agg.merge!(acc, m.acc);
        w.count += m.count;
        if (m.deliveries) (w.deliveries ??= []).push(...m.deliveries);
        m.phase = GONE;
        this.open--;
        if (m.saved !== undefined) this.deleted.add(m.saved);
        this.dirty.delete(m);
      }
      w.acc = this.agg.merge!(w.acc, acc);
      w.count += 1;
      w.start = start;
      w.end = end;
      sessions.splice(first, 0, w);
    }
    if (n === 0) w.acc = acc;
    // A session ending at or before the watermark has fired (it is here thanks to allowedLateness).
    const phase = end <= this.wm ? FIRED : OPEN;
    const due = phase === FIRED ? end + this.env.lateness : end;
    w.phase = phase;
    if (w.due !== due || n === 0) {
      w.due = due;
      this.queue.push(due, w);
    }
    this.absorbed(w, e.delivery);
    return true;
  }

  advance(wm: number): void {
    this.wm = wm;
    this.queue.popUntil(wm, this.due);
    this.sweep();
  }

  /** A window's due time came (made once: advance runs often). */
  private readonly due = (w: Win, at: number): void => {
    const wm = this.wm;
    if (w.due !== at || w.phase === GONE) return;
    if (w.phase === OPEN) {
      w.phase = FIRED;
      if (this.env.track) this.dirty.add(w);
      if (!this.env.eager) this.emit(w, this.env.hold && w.deliveries ? joinDeliveries(w.deliveries.splice(0)) : undefined);
      w.due = w.end + this.env.lateness;
      if (w.due > wm) {
        this.queue.push(w.due, w);
        return;
      }
    }
    this.purge(w);
  };

  private purge(w: Win): void {
    w.phase = GONE;
    this.open--;
    const ks = w.ks;
    if (this.shape.kind === 'aligned') {
      if (ks.last === w) ks.last = undefined;
      if (ks.wins === undefined) this.emptied(ks);
      else {
        ks.wins.delete(w.start);
        if (ks.wins.size === 0) {
          ks.wins = undefined;
          this.emptied(ks);
        }
      }
    } else {
      const i = ks.sessions.indexOf(w);
      if (i >= 0) ks.sessions.splice(i, 1);
      if (ks.sessions.length === 0) this.emptied(ks);
    }
    if (this.env.track) {
      this.dirty.delete(w);
      if (w.saved !== undefined) this.deleted.add(w.saved);
    }
    // Aligned windows are in the due queue once per due time, all popped by now: safe to reuse.
    if (this.shape.kind === 'aligned' && this.free.length < POOL) {
      w.acc = undefined;
      w.key = undefined;
      this.free.push(w);
    }
  }

  private emit(w: Win, delivery: Delivery | undefined): void {
    this.env.emit(
      { key: w.key, start: w.start, end: w.end, count: w.count, value: this.agg.result(w.acc, w.count) },
      w.end - 1,
      w.key,
      delivery,
    );
  }

  nextDue(): number {
    return this.queue.next();
  }

  size(): number {
    return this.open;
  }

  cutOff(reason: unknown): void {
    for (const ks of this.keys.values()) {
      const wins = this.shape.kind === 'session' ? ks.sessions : ks.wins ? [...ks.wins.values()] : ks.last ? [ks.last] : [];
      for (const w of wins) {
        for (const d of w.deliveries?.splice(0) ?? []) d.nack(reason);
      }
    }
  }

  takeChanges(): { put: Array<[string, unknown]>; delete: string[] } {
    const put: Array<[string, unknown]> = [];
    for (const w of this.dirty) {
      const name = JSON.stringify([w.key, w.start]);
      if (w.saved !== undefined && w.saved !== name) this.deleted.add(w.saved);
      this.deleted.delete(name);
      w.saved = name;
      // A copy: accumulators change in place (collect), and the store may write later.
      const acc = w.acc !== null && typeof w.acc === 'object' ? structuredClone(w.acc) : w.acc;
      const saved: SavedWin = { key: w.key, start: w.start, end: w.end, acc, count: w.count, phase: w.phase };
      put.push([name, saved]);
    }
    this.dirty.clear();
    const del = [...this.deleted];
    this.deleted.clear();
    return { put, delete: del };
  }

  restore(entries: Iterable<[string, unknown]>): void {
    for (const [name, value] of entries) {
      const s = value as SavedWin;
      const id = this.idOf(s.key);
      const ks = this.keyState(s.key, id);
      const due = s.phase === FIRED ? s.end + this.env.lateness : s.end;
      const w: Win = {
        key: s.key,
        ks,
        start: s.start,
        end: s.end,
        acc: s.acc,
        count: s.count,
        due,
        phase: s.phase,
        deliveries: undefined,
        saved: name,
      };
      if (this.shape.kind === 'aligned') this.place(ks, w);
      else {
        let at = 0;
        while (at < ks.sessions.length && ks.sessions[at].start < s.start) at++;
        ks.sessions.splice(at, 0, w);
      }
      this.open++;
      this.queue.push(due, w);
    }
  }
}
