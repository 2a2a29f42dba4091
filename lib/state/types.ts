// The one state interface (DESIGN §10): every node kind that keeps state — event-time windows,
// keyed `stateful` nodes, agglo's aggregate/complete, later the SQL windows — keeps it through
// these two contracts, so one set of stores (memory, SQLite/MariaDB/PostgreSQL through TypeORM,
// Redis) and one checkpoint coordinator serve them all.

/** A stored value with the version compare-and-set checks (1 for the first write, then +1). */
export interface Versioned<T = unknown> {
  value: T;
  version: number;
}

/** One write of an atomic {@link KeyValueStore.batch}. */
export type BatchOp =
  | { op: 'put'; key: string; value: unknown; ttlMs?: number }
  | { op: 'delete'; key: string }
  /** Fails the whole batch unless `key` is at `version` (`0` = absent). */
  | { op: 'check'; key: string; version: number };

/**
 * A durable key-value store of JSON values, opened by URL (`memory:`, `sqlite:…`, `mysql://…`,
 * `postgres://…`, `redis://…`). Updates that must not be lost under concurrency use
 * {@link compareAndSet} or {@link batch} — never a lock that could stay held after a crash.
 *
 * @example
 * ```ts
 * const kv = await openStateStore('memory:');
 * await kv.put('sum:alice', 5);
 * const cur = await kv.get<number>('sum:alice');                 // { value: 5, version: 1 }
 * await kv.compareAndSet('sum:alice', cur!.version, cur!.value + 3); // true
 * ```
 */
export interface KeyValueStore {
  /** The store's URL with any password replaced by `***`: safe to log. */
  readonly url: string;
  get<T = unknown>(key: string): Promise<Versioned<T> | undefined>;
  /** Writes unconditionally; `ttlMs` makes the key expire (reads no longer see it). */
  put(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void>;
  /** Writes only if the key is at `expectedVersion` (`0` = absent); false otherwise. */
  compareAndSet(key: string, expectedVersion: number, value: unknown, options?: { ttlMs?: number }): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Every live entry whose key starts with `prefix`, in key order. */
  list<T = unknown>(prefix: string): AsyncIterable<[string, Versioned<T>]>;
  /** Applies every op or none: false (nothing written) when a `check` fails. */
  batch(ops: BatchOp[]): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * In-memory state of a node that a checkpoint saves and a restart restores. The node keeps its
 * state in memory (fast per event); the checkpoint coordinator periodically takes the changes
 * and writes them, with the source positions they include, in one atomic batch.
 *
 * @example
 * ```ts
 * const sums = new Map<string, number>();
 * const dirty = new Set<string>();
 * const state: Checkpointable = {
 *   stateName: 'sums',
 *   takeChanges: () => { const put = [...dirty].map((k) => [k, sums.get(k)] as [string, unknown]); dirty.clear(); return { put, delete: [] }; },
 *   restore: (entries) => { for (const [k, v] of entries) sums.set(k, v as number); },
 * };
 * ```
 */
export interface Checkpointable {
  /** Namespace of this node's entries in the store (the node's name). */
  readonly stateName: string;
  /** Entries written and keys removed since the last call (consumed by the call). */
  takeChanges(): { put: Array<[string, unknown]>; delete: string[] };
  /** Loads the entries of the last checkpoint, before the first event. */
  restore(entries: Iterable<[string, unknown]>): void;
}

/**
 * The header a source stamps on events whose position it can name, so that keyed state can
 * recognise a redelivery of an event it already includes: `<source>#<sequence>`, the sequence a
 * whole number growing with each new message of that source (a JetStream source writes
 * `nats:<stream>#<stream sequence>`). Events without it are never treated as redeliveries.
 *
 * @example
 * ```ts
 * ctx.event(payload, { headers: { [POSITION_HEADER]: `nats:BETS#${m.seq}` } });
 * parsePosition('nats:BETS#42'); // { source: 'nats:BETS', seq: 42 }
 * ```
 */
export const POSITION_HEADER = 'tributary-position';

/**
 * Reads a {@link POSITION_HEADER} value; undefined when it is not `<source>#<whole number>`.
 *
 * @example
 * ```ts
 * parsePosition('nats:BETS#42'); // { source: 'nats:BETS', seq: 42 }
 * ```
 */
export function parsePosition(value: string | undefined): { source: string; seq: number } | undefined {
  if (value === undefined) return undefined;
  const i = value.lastIndexOf('#');
  if (i <= 0) return undefined;
  const seq = Number(value.slice(i + 1));
  return Number.isSafeInteger(seq) && seq >= 0 ? { source: value.slice(0, i), seq } : undefined;
}
