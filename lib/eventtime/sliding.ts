import type { Delivery } from '../delivery';
import type { Event } from '../event';
import type { Aggregator } from './aggregate';
import { DueQueue } from './due-queue';
import type { EngineEnv, WindowEngine } from './engine';

interface Entry {
  readonly t: number;
  readonly seq: number;
  readonly payload: unknown;
  /** Its own result has gone out. */
  released: boolean;
  delivery: Delivery | undefined;
  readonly key: unknown;
  readonly id: unknown;
  saved: string | undefined;
}

/** What an entry is saved as in a checkpoint. */
interface SavedEntry {
  key: unknown;
  t: number;
  seq: number;
  payload: unknown;
  released: boolean;
}

/** A sliding window per event: over the last `duration` ms of event time, or the last `count` events. */
export type SlidingShape = { duration: number; count?: undefined } | { count: number; duration?: undefined };

/**
 * The engine of sliding windows: per key the events in event-time order; each event's result
 * (the aggregate over the events of its key in (t − duration, t], or over the last `count`
 * events up to it) goes out once the watermark has passed its time — or at once with
 * `emit: 'update'` or processing time. An event arriving behind the watermark but within
 * `allowedLateness` gets its result at once, and the results already out that it changes are
 * emitted again.
 *
 * @example
 * ```ts
 * const engine = slidingWindows({ duration: 60_000 }, aggregator({ maxItems: 10 }, 'w'), env, false);
 * ```
 */
export function slidingWindows(
  shape: SlidingShape,
  agg: Aggregator,
  env: EngineEnv,
  immediate: boolean,
  idOf: (k: unknown) => unknown,
): WindowEngine {
  return new Sliding(shape, agg, env, immediate, idOf);
}

class Sliding implements WindowEngine {
  wm = -Infinity;
  private readonly keys = new Map<unknown, Entry[]>();
  private readonly queue = new DueQueue<Entry>();
  private readonly dirty = new Set<Entry>();
  private readonly deleted = new Set<string>();
  private seq = 0;
  private held = 0;

  constructor(
    private readonly shape: SlidingShape,
    private readonly agg: Aggregator,
    private readonly env: EngineEnv,
    /** Processing time: every result goes out on arrival. */
    private readonly immediate: boolean,
    private readonly idOf: (k: unknown) => unknown,
  ) {}

  add(key: unknown, id: unknown, t: number, e: Event): boolean {
    // Its result would have gone out when the watermark passed t; past the lateness it is late.
    if (t + this.env.lateness < this.wm) return false;
    this.agg.check?.(e.payload); // a bad value is an error before anything changes
    let list = this.keys.get(id);
    if (!list) {
      list = [];
      this.keys.set(id, list);
    }
    const entry: Entry = {
      t,
      seq: this.seq++,
      payload: e.payload,
      released: false,
      delivery: this.env.hold ? e.delivery : undefined,
      key,
      id,
      saved: undefined,
    };
    let i = list.length;
    while (i > 0 && list[i - 1].t > t) i--;
    list.splice(i, 0, entry);
    this.held++;
    if (this.env.track) this.dirty.add(entry);
    if (this.immediate || this.env.eager || t < this.wm) this.release(list, i);
    else this.queue.push(t, entry);
    this.reviseAfter(list, i);
    this.evict(list);
    return true;
  }

  /** Emits the result of `list[i]` for the first time. */
  private release(list: Entry[], i: number): void {
    const entry = list[i];
    entry.released = true;
    if (this.env.track) this.dirty.add(entry);
    const delivery = entry.delivery;
    entry.delivery = undefined;
    this.emit(list, i, delivery);
  }

  /** A new entry at `i` changed the results of released entries after it (and of ties before it): emit them again. */
  private reviseAfter(list: Entry[], i: number): void {
    const t = list[i].t;
    if (this.shape.count !== undefined) {
      const last = Math.min(list.length - 1, i + this.shape.count - 1);
      for (let j = i + 1; j <= last; j++) if (list[j].released) this.emit(list, j, undefined);
      return;
    }
    for (let j = i - 1; j >= 0 && list[j].t === t; j--) if (list[j].released) this.emit(list, j, undefined);
    for (let j = i + 1; j < list.length && list[j].t < t + this.shape.duration; j++) if (list[j].released) this.emit(list, j, undefined);
  }

  private emit(list: Entry[], i: number, delivery: Delivery | undefined): void {
    const me = list[i];
    let acc = this.agg.init();
    let n = 0;
    let start: number;
    try {
      if (this.shape.count !== undefined) {
        const from = Math.max(0, i - this.shape.count + 1);
        for (let j = from; j <= i; j++) {
          acc = this.agg.add(acc, list[j].payload);
          n++;
        }
        start = list[from].t;
      } else {
        start = me.t - this.shape.duration;
        // Ties after it count too: its window is (t − duration, t].
        let hi = i;
        while (hi + 1 < list.length && list[hi + 1].t === me.t) hi++;
        let lo = i;
        while (lo > 0 && list[lo - 1].t > start) lo--;
        for (let j = lo; j <= hi; j++) {
          acc = this.agg.add(acc, list[j].payload);
          n++;
        }
      }
    } catch (err) {
      // A user reduce that throws here: the result is an error event; the window goes on.
      this.env.fail(err, me.payload, delivery);
      return;
    }
    this.env.emit({ key: me.key, start, end: me.t, count: n, value: this.agg.result(acc, n) }, me.t, me.key, delivery);
  }

  advance(wm: number): void {
    this.wm = wm;
    const touched = new Set<Entry[]>();
    this.queue.popUntil(
      wm,
      (entry) => {
        if (entry.released) return;
        const list = this.keys.get(entry.id);
        if (!list) return;
        const i = list.indexOf(entry);
        if (i < 0) return;
        this.release(list, i);
        touched.add(list);
      },
      true,
    );
    for (const list of touched) this.evict(list);
    if (wm === Infinity) for (const list of [...this.keys.values()]) this.evict(list);
  }

  /** Drops entries no future result can need (their key goes when none are left). */
  private evict(list: Entry[]): void {
    const horizon = this.wm - this.env.lateness;
    let drop = 0;
    if (this.shape.count !== undefined) {
      let old = 0;
      while (old < list.length && list[old].t < horizon && list[old].released) old++;
      drop = this.wm === Infinity ? list.length : Math.max(0, old - (this.shape.count - 1));
    } else {
      while (drop < list.length && list[drop].released && list[drop].t <= horizon - this.shape.duration) drop++;
      if (this.wm === Infinity) drop = list.length;
    }
    if (drop === 0) return;
    const id = list[0].id;
    for (const gone of list.splice(0, drop)) {
      this.held--;
      if (this.env.track) {
        this.dirty.delete(gone);
        if (gone.saved !== undefined) this.deleted.add(gone.saved);
      }
    }
    if (list.length === 0) this.keys.delete(id);
  }

  nextDue(): number {
    return this.queue.next();
  }

  size(): number {
    return this.held;
  }

  cutOff(reason: unknown): void {
    for (const list of this.keys.values()) for (const e of list) e.delivery?.nack(reason);
  }

  takeChanges(): { put: Array<[string, unknown]>; delete: string[] } {
    const put: Array<[string, unknown]> = [];
    for (const e of this.dirty) {
      const name = JSON.stringify([e.key, e.t, e.seq]);
      e.saved = name;
      this.deleted.delete(name);
      const saved: SavedEntry = { key: e.key, t: e.t, seq: e.seq, payload: e.payload, released: e.released };
      put.push([name, saved]);
    }
    this.dirty.clear();
    const del = [...this.deleted];
    this.deleted.clear();
    return { put, delete: del };
  }

  restore(entries: Iterable<[string, unknown]>): void {
    const all = [...entries].map(([name, v]) => ({ name, s: v as SavedEntry })).sort((a, b) => a.s.t - b.s.t || a.s.seq - b.s.seq);
    for (const { name, s } of all) {
      const id = this.idOf(s.key);
      let list = this.keys.get(id);
      if (!list) {
        list = [];
        this.keys.set(id, list);
      }
      const entry: Entry = {
        t: s.t,
        seq: s.seq,
        payload: s.payload,
        released: s.released,
        delivery: undefined,
        key: s.key,
        id,
        saved: name,
      };
      list.push(entry);
      this.held++;
      this.seq = Math.max(this.seq, s.seq + 1);
      if (!s.released) this.queue.push(s.t, entry);
    }
  }
}
