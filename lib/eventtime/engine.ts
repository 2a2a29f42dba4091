import type { Delivery } from '../delivery';
import type { Event } from '../event';

/** What a window engine emits: one result, with the delivery handles it settles (if any). */
export type EmitResult = (payload: WindowResult, time: number, key: unknown, delivery: Delivery | undefined) => void;

/** The payload of every window result event. */
export interface WindowResult {
  /** The window's key (null for an unkeyed window). */
  key: unknown;
  /** Window start, ms (inclusive). */
  start: number;
  /** Window end, ms (exclusive; for a sliding window the event's own time, inclusive). */
  end: number;
  /** Events in the window. */
  count: number;
  /** The aggregate. */
  value: unknown;
}

/** What the operator shell gives the engine it makes. */
export interface EngineEnv {
  emit: EmitResult;
  /** A result could not be computed (a user reduce threw): an error event naming the node, about `payload`. */
  fail: (cause: unknown, payload: unknown, delivery: Delivery | undefined) => void;
  /** True: keep the input events' delivery handles until their results are emitted; false: a checkpoint settles them. */
  hold: boolean;
  /** True: record changes for checkpoints. */
  track: boolean;
  /** Emit on every update instead of once when a window closes. */
  eager: boolean;
  /** How long a closed window stays open to late events, ms. */
  lateness: number;
}

/**
 * The window logic under the shared operator shell (which reads times and keys, keeps the
 * watermark, routes late events and runs the timers). Everything is synchronous and
 * Map-based: nothing async per event.
 */
export interface WindowEngine {
  /** The current watermark (set by the shell before `advance`). */
  wm: number;
  /** Absorbs an event at time `t` under `key` (`id` its map key); false: it is late, nothing changed. Throws for a bad value. */
  add(key: unknown, id: unknown, t: number, e: Event): boolean;
  /** The watermark moved to `wm`: fires and purges what is due. */
  advance(wm: number): void;
  /** The earliest time something is due (Infinity: nothing open). */
  nextDue(): number;
  /** Windows (or entries) held now. */
  size(): number;
  /** The network was cut off: give back the deliveries held. */
  cutOff(reason: unknown): void;
  /** Checkpoint changes since the last call. */
  takeChanges(): { put: Array<[string, unknown]>; delete: string[] };
  /** Loads checkpointed entries (before the first event). */
  restore(entries: Iterable<[string, unknown]>): void;
}
