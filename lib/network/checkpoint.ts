import type { SchedulerLike, Subscription } from 'rxjs';
import { parseTimer, type Duration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import type { Event } from '../event';
import type { Logger, NodeContext, StateHandle } from '../nodes/types';
import { RangeSet } from './ranges';
import { parsePosition, POSITION_HEADER, type BatchOp, type Checkpointable, type KeyValueStore } from '../state/types';

/** The `state` option of a network: where keyed state is checkpointed, and how often. */
export interface StateOptions {
  /** The store checkpoints are written to (`openStateStore(url)` from `tributary/state`, or your own). */
  store: KeyValueStore;
  /** How often changed state is written (and the events it includes acked). Default `"1s"`. */
  checkpointInterval?: Duration;
  /**
   * Checkpoint early once this many events wait for one (default 100): a source that limits its
   * events in flight (`maxInFlight`) would otherwise stall until the next interval.
   */
  maxPending?: number;
  /** Prefix of every key the network writes, so several networks can share one store. Default `''`. */
  namespace?: string;
  /**
   * How far below a source's highest absorbed position a gap is still awaited (default
   * 1,000,000): a message redelivered later than that behind newer ones would count as
   * included. Gaps are positions not (yet) seen: messages still to be redelivered, and other
   * subjects' messages of a shared stream.
   */
  positionWindow?: number;
  /**
   * Fencing for partitioned group runs (docs/scale-out.md): every checkpoint batch also checks
   * that `key` is still at `version` in the store. The owner of a partition writes its lease
   * epoch to `key` when it takes the partition over, so a stale owner's checkpoint fails as a
   * whole, its events stay unacked (JetStream redelivers them to the new owner) and
   * `onFenced` is called once: the stale owner must stop.
   */
  fence?: { key: string; version: number; onFenced?: () => void };
}

/** The positions a state absorbed, per source (see {@link RangeSet}). */
interface Positions {
  sources: Map<string, RangeSet>;
  dirty: boolean;
}

/** How positions are stored: per source, the absorbed ranges `[lo, hi]`. */
interface StoredPositions {
  ranges: Record<string, Array<[number, number]>>;
}

interface Registered {
  state: Checkpointable;
  positions: Positions;
  prefix: string;
}

/** What a checkpoint coordinator has done, for logs and tests. */
export interface CheckpointStats {
  /** Checkpoints written. */
  written: number;
  /** Checkpoints that failed (retried at the next one). */
  failed: number;
  /** Events waiting for the next checkpoint to be acked. */
  pending: number;
  /** Redelivered events that registered states recognised and did not apply again. */
  duplicates: number;
}

const NO_POSITION = Symbol('no position');
const STATE_OPTIONS = ['store', 'checkpointInterval', 'maxPending', 'namespace', 'positionWindow', 'fence'];

/**
 * The checkpoint coordinator of a network with a `state` option: loads every registered
 * state's last checkpoint before the first event, then periodically (and when `maxPending`
 * events wait, and once more when the network ends) takes each state's changes and writes
 * them, with the source positions each state absorbed, in ONE atomic `batch`; only then are
 * the events handed to `settleAfterCheckpoint` acked. A failed write is retried at the next
 * checkpoint with everything since; the events keep waiting (nacked only if the last
 * checkpoint, at the end, fails).
 *
 * Keys: `<namespace><state name, URI-encoded>/<entry key>` for entries and
 * `<namespace><state name>#positions` for positions.
 *
 * @example
 * ```ts
 * const cp = new Checkpoints({ store, checkpointInterval: '1s' }, scheduler, logger);
 * await cp.load();
 * const handle = cp.register(ctx, sums); // restores sums, returns settleAfterCheckpoint/admit
 * cp.start();
 * // … events …
 * await cp.finish();
 * ```
 */
export class Checkpoints {
  readonly store: KeyValueStore;
  private readonly interval: number;
  private readonly maxPending: number;
  private readonly namespace: string;
  private readonly window: number;
  private readonly fence?: { key: string; version: number; onFenced?: () => void };
  private fenced = false;
  private next?: Promise<boolean>;
  private loaded?: Map<string, { entries: Array<[string, unknown]>; positions?: StoredPositions }>;
  private readonly states = new Map<string, Registered>();
  private pending: Array<{ ctx: NodeContext; event: Event<unknown> }> = [];
  /** Writes taken from states but not yet committed (a failed batch is retried with them). */
  private readonly unwritten = new Map<string, BatchOp>();
  private running?: Promise<boolean>;
  private again = false;
  private timer?: Subscription;
  private finishing?: Promise<void>;
  private readonly counts: CheckpointStats = { written: 0, failed: 0, pending: 0, duplicates: 0 };

  constructor(
    options: StateOptions,
    private readonly scheduler: SchedulerLike,
    private readonly logger: Logger,
  ) {
    if (!options || typeof options !== 'object' || !isStore(options.store)) {
      throw new TributaryError('BAD_OPTION', "Network: option 'state.store' must be a KeyValueStore (openStateStore(url))");
    }
    for (const k of Object.keys(options)) {
      if (!STATE_OPTIONS.includes(k)) {
        throw new TributaryError('BAD_OPTION', `Network: unknown option 'state.${k}' (known: ${STATE_OPTIONS.join(', ')})`);
      }
    }
    this.store = options.store;
    this.interval = parseTimer(options.checkpointInterval ?? '1s', 'state.checkpointInterval');
    if (this.interval <= 0) throw new TributaryError('BAD_OPTION', "Network: option 'state.checkpointInterval' must be more than 0");
    this.maxPending = options.maxPending ?? 100;
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1) {
      throw new TributaryError(
        'BAD_OPTION',
        `Network: option 'state.maxPending' must be a whole number of at least 1, got ${String(options.maxPending)}`,
      );
    }
    this.namespace = options.namespace ?? '';
    if (options.fence !== undefined) {
      const f = options.fence as Partial<NonNullable<StateOptions['fence']>>;
      if (!f || typeof f !== 'object' || typeof f.key !== 'string' || f.key === '') {
        throw new TributaryError('BAD_OPTION', "Network: option 'state.fence.key' must be a non-empty string");
      }
      if (!Number.isSafeInteger(f.version) || (f.version as number) < 1) {
        throw new TributaryError(
          'BAD_OPTION',
          `Network: option 'state.fence.version' must be a whole number of at least 1 (the version claimFence returned), got ${String(f.version)}`,
        );
      }
      if (f.onFenced !== undefined && typeof f.onFenced !== 'function') {
        throw new TributaryError('BAD_OPTION', "Network: option 'state.fence.onFenced' must be a function");
      }
      this.fence = { key: f.key, version: f.version as number, onFenced: f.onFenced };
    }
    this.window = options.positionWindow ?? 1_000_000;
    if (!Number.isSafeInteger(this.window) || this.window < 1) {
      throw new TributaryError(
        'BAD_OPTION',
        `Network: option 'state.positionWindow' must be a whole number of at least 1, got ${String(options.positionWindow)}`,
      );
    }
  }

  /** True once {@link load} has read the last checkpoint. */
  get isLoaded(): boolean {
    return this.loaded !== undefined;
  }

  /** True once a checkpoint found the fence moved: a newer owner took the partition, nothing is acked any more. */
  get isFenced(): boolean {
    return this.fenced;
  }

  /** What the coordinator has done so far. */
  stats(): CheckpointStats {
    return { ...this.counts, pending: this.pending.length };
  }

  /**
   * Reads the last checkpoint (every entry under the namespace) so that states registered
   * while the network compiles are restored synchronously, before any event.
   */
  async load(): Promise<void> {
    if (this.loaded) return;
    const loaded = new Map<string, { entries: Array<[string, unknown]>; positions?: StoredPositions }>();
    const ns = this.namespace;
    try {
      for await (const [key, v] of this.store.list(ns)) {
        const rest = key.slice(ns.length);
        const slash = rest.indexOf('/');
        const hash = rest.indexOf('#');
        if (hash > 0 && (slash < 0 || hash < slash) && rest.slice(hash) === '#positions') {
          const name = decodeURIComponent(rest.slice(0, hash));
          const at = loaded.get(name) ?? { entries: [] };
          at.positions = v.value as StoredPositions;
          loaded.set(name, at);
        } else if (slash > 0) {
          const name = decodeURIComponent(rest.slice(0, slash));
          const at = loaded.get(name) ?? { entries: [] };
          at.entries.push([rest.slice(slash + 1), v.value]);
          loaded.set(name, at);
        }
      }
    } catch (e) {
      throw new TributaryError('STATE', `cannot restore state from ${this.store.url}: ${errorMessage(e)}`, { cause: e });
    }
    this.loaded = loaded;
  }

  /**
   * Registers a node's state: restores it from the loaded checkpoint and returns its handle.
   */
  register(ctx: NodeContext, state: Checkpointable): StateHandle {
    if (!this.loaded) {
      throw new TributaryError(
        'STATE',
        `node '${ctx.name}': the network's state is not loaded yet: use await net.start(), or await net.restoreState() before startSync()`,
      );
    }
    const name = state.stateName;
    if (typeof name !== 'string' || name === '') throw new TributaryError('STATE', `node '${ctx.name}': its state needs a stateName`);
    if (this.states.has(name)) {
      throw new TributaryError(
        'STATE',
        `node '${ctx.name}': state '${name}' is registered twice (state names must be unique in a network)`,
      );
    }
    const saved = this.loaded.get(name);
    const positions: Positions = { sources: new Map(), dirty: false };
    for (const [src, ranges] of Object.entries(saved?.positions?.ranges ?? {})) positions.sources.set(src, RangeSet.from(ranges));
    const reg: Registered = { state, positions, prefix: `${this.namespace}${encodeURIComponent(name)}/` };
    this.states.set(name, reg);
    state.restore(saved?.entries ?? []);
    return {
      settleAfterCheckpoint: (event) => {
        if (!event.delivery || event.delivery.settled) return;
        this.pending.push({ ctx, event });
        if (this.pending.length >= this.maxPending && !this.running) void this.checkpoint();
      },
      admit: (event) => {
        const pos = position(event);
        if (pos === NO_POSITION) return true;
        let set = positions.sources.get(pos.source);
        if (!set) positions.sources.set(pos.source, (set = new RangeSet()));
        if (!set.add(pos.seq)) {
          this.counts.duplicates++;
          return false;
        }
        positions.dirty = true;
        return true;
      },
    };
  }

  /** Starts the periodic checkpoints on the network's scheduler. */
  start(): void {
    if (this.timer || this.finishing) return;
    const interval = this.interval;
    const tick = () => void this.checkpoint();
    this.timer = this.scheduler.schedule(function () {
      tick();
      this.schedule(undefined, interval);
    }, interval);
  }

  /**
   * Writes a checkpoint now (or right after the one under way); resolves true once the
   * changes up to this call are committed and their events acked.
   */
  checkpoint(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      // One follow-up however many ask: it takes everything that changed meanwhile.
      this.next ??= this.running.then(() => {
        this.next = undefined;
        this.again = false;
        return this.checkpoint();
      });
      return this.next;
    }
    const run = this.write().finally(() => {
      this.running = undefined;
      if (!this.next && !this.finishing && (this.again || this.pending.length >= this.maxPending)) {
        this.again = false;
        void this.checkpoint();
      }
    });
    this.running = run;
    return run;
  }

  private async write(): Promise<boolean> {
    const settle = this.pending;
    this.pending = [];
    // Everything is taken in one synchronous step: the values and positions written belong
    // together (copied, so a node changing its state meanwhile cannot mix later effects in).
    for (const [name, reg] of this.states) {
      const changes = reg.state.takeChanges();
      for (const [k, v] of changes.put) this.unwritten.set(reg.prefix + k, { op: 'put', key: reg.prefix + k, value: copy(v) });
      for (const k of changes.delete) this.unwritten.set(reg.prefix + k, { op: 'delete', key: reg.prefix + k });
      if (reg.positions.dirty) {
        reg.positions.dirty = false;
        const key = `${this.namespace}${encodeURIComponent(name)}#positions`;
        this.unwritten.set(key, { op: 'put', key, value: this.storedPositions(reg.positions) });
      }
    }
    if (this.fenced) {
      // A newer owner holds the partition: nothing more is written or acked here; the events
      // stay unacked and JetStream redelivers them to that owner.
      this.pending = settle.concat(this.pending);
      return false;
    }
    // With a fence, even a checkpoint with nothing to write checks it before acking events.
    if (this.unwritten.size > 0 || (this.fence && settle.length > 0)) {
      const fence = this.fence;
      const ops: BatchOp[] = [...this.unwritten.values()];
      if (fence) ops.push({ op: 'check', key: fence.key, version: fence.version });
      let ok = false;
      let why = 'a check failed';
      let threw = false;
      try {
        ok = await this.store.batch(ops);
      } catch (e) {
        why = errorMessage(e);
        threw = true;
      }
      if (!ok && fence && !threw) {
        this.fenced = true;
        this.counts.failed++;
        this.pending = settle.concat(this.pending);
        this.logger.error(
          `checkpoint to ${this.store.url} refused: the partition fence '${fence.key}' moved past version ${fence.version} (a newer owner took the partition); this instance is fenced: it writes and acks nothing more, ${this.pending.length} events stay unacked for the new owner`,
        );
        try {
          fence.onFenced?.();
        } catch (e) {
          this.logger.error(`state.fence.onFenced threw: ${errorMessage(e)}`);
        }
        return false;
      }
      if (!ok) {
        this.counts.failed++;
        this.pending = settle.concat(this.pending);
        this.logger.error(
          `checkpoint to ${this.store.url} failed (${why}); retrying at the next one, ${this.pending.length} events wait for it`,
        );
        return false;
      }
      // Only what this batch held: later changes are still with the states.
      for (const o of ops) if (this.unwritten.get(o.key) === o) this.unwritten.delete(o.key);
      this.counts.written++;
    }
    for (const { ctx, event } of settle) ctx.ack(event);
    return true;
  }

  /** Positions as stored, gaps older than the window closed first. */
  private storedPositions(p: Positions): StoredPositions {
    const ranges: StoredPositions['ranges'] = {};
    for (const [src, set] of p.sources) {
      const max = set.max;
      if (max !== undefined) set.closeBelow(max - this.window);
      ranges[src] = set.toJSON();
    }
    return { ranges };
  }

  /**
   * The network ends: stops the timer and writes the last checkpoint. Events still waiting
   * are acked if it succeeds, nacked if not. Safe to call twice.
   */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      this.timer?.unsubscribe();
      this.timer = undefined;
      if (this.running) await this.running.catch(() => false);
      const ok = await this.write();
      if (!ok) {
        // Fenced or not, never acked: nacked, so the source has them redelivered (to the new owner).
        const why = this.fenced ? 'fenced: a newer owner took the partition' : 'the last checkpoint failed';
        for (const { ctx, event } of this.pending.splice(0)) ctx.nack(event, new Error(why));
      }
    })();
    return this.finishing;
  }
}

function position(event: Event<unknown>): { source: string; seq: number } | typeof NO_POSITION {
  const h = event.meta.headers?.[POSITION_HEADER];
  if (h === undefined) return NO_POSITION;
  return parsePosition(h) ?? NO_POSITION;
}

function copy(v: unknown): unknown {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown);
}

function isStore(s: unknown): s is KeyValueStore {
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof (s as KeyValueStore).batch === 'function' &&
    typeof (s as KeyValueStore).list === 'function'
  );
}
