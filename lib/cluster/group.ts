// A member of a scale-out group (docs/scale-out.md): coordinates with the other members through
// ONE NATS KV bucket — heartbeats, leases with fencing epochs — and runs the units assigned to
// it through a UnitFactory. It never builds networks itself (lib/cluster/runner.ts does).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { JetStreamManager, KV, NatsConnection } from 'nats';
import { parseTimer, type Duration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import type { Logger } from '../nodes/types';
import { redactUrlSecrets, shownUrl } from '../util/redact';
import { checkReplicas, openGroupKv } from './buckets';
import { fnv1a32 } from './partition';
import {
  groupBucket,
  type DeployedScript,
  type MemberInfo,
  type ScriptCatalog,
  type UnitFactory,
  type UnitHandle,
  type UnitStats,
  type WorkUnit,
} from './types';

/** Options of a {@link GroupMember}. */
export interface GroupMemberOptions {
  /** A NATS URL (the member opens and closes its own connection) or a connection it borrows. */
  nats: string | NatsConnection;
  /** The group's name: its bucket is `groupBucket(group)`. */
  group: string;
  /** The scripts the group runs. Not closed by the member. */
  catalog: ScriptCatalog;
  /** Builds the units this member wins. */
  factory: UnitFactory;
  /**
   * How long a lease (and a heartbeat) lives without renewal: the bucket's TTL. Members renew
   * every third of it; a dead member's units are taken over after about this long. Every member
   * of a group must use the same value. Default `'10s'`.
   */
  leaseTimeout?: Duration;
  /**
   * Copies of the group's bucket (1 to 5; a NATS cluster of at least that many servers is
   * needed for more than 1). A missing bucket is created with this many, default 1; an existing
   * one must have this many (the member refuses to start otherwise); when not given, an
   * existing bucket is used as it is.
   */
  replicas?: number;
  /** This member's id (letters, digits, `-`, `_`); default `<host>-<pid>-<random>`. */
  memberId?: string;
  logger?: Logger;
  /** Where its timers run (default rxjs `asyncScheduler`). */
  scheduler?: SchedulerLike;
}

/** One unit as a member sees it, for `ps`-like output and tests. */
export interface OwnedUnitSnapshot {
  readonly id: string;
  readonly script: string;
  readonly version: number;
  /** The lease's fencing token (the KV revision of its acquisition). */
  readonly epoch: number;
  readonly phase: 'starting' | 'running' | 'reloading' | 'stopping';
}

/** What {@link GroupMember.snapshot} returns. */
export interface GroupSnapshot {
  readonly id: string;
  readonly group: string;
  /** The live members as of the last poll, sorted. */
  readonly members: readonly string[];
  /** The units it holds leases on, by id. */
  readonly units: Readonly<Record<string, OwnedUnitSnapshot>>;
  /** The units assigned to it by the last poll (whether it holds them yet or not). */
  readonly assigned: readonly string[];
  /** Scripts that failed to build here, by name. */
  readonly failed: Readonly<Record<string, { version: number; error: string }>>;
}

interface Owned {
  unit: WorkUnit;
  readonly key: string;
  /** The KV revision of our last write to the lease. */
  revision: number;
  /** The revision at which the lease was acquired: the fencing token. */
  readonly epoch: number;
  /** Our clock when the last successful write was sent: the lease lives until at least this + timeout. */
  renewedAt: number;
  phase: OwnedUnitSnapshot['phase'];
  handle?: UnitHandle;
  /** Settles once the first start attempt is over. */
  started: Promise<void>;
  /** Lease writes one after another (renewals, the final delete). */
  chain: Promise<unknown>;
  lost: boolean;
  released: boolean;
  /** A hot reload under way: a release waits for it (the old version may still be draining). */
  reloading?: Promise<void>;
}

const KEY_SAFE = /[^-_=/.A-Za-z0-9]/g;

/**
 * Which member runs which unit: rendezvous hashing with bounded load. Every unit (sorted) goes
 * to the member ranking highest for it (a hash of unit and member) among those with room left;
 * room is `floor(units / members)`, plus one for the first `units % members` members in sorted
 * order, so loads differ by at most one. Every member computes the same answer from the same
 * sorted lists, and a member joining or leaving moves few units.
 *
 * @example
 * ```ts
 * assignUnits(['s.p0', 's.p1', 's.p2'], ['a', 'b']); // Map { 's.p0' => 'b', 's.p1' => 'a', 's.p2' => 'a' } (for example)
 * ```
 */
export function assignUnits(units: readonly string[], members: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const ms = [...new Set(members)].sort();
  if (ms.length === 0) return out;
  const us = [...new Set(units)].sort();
  const base = Math.floor(us.length / ms.length);
  const extra = us.length % ms.length;
  const room = new Map(ms.map((m, i) => [m, base + (i < extra ? 1 : 0)]));
  for (const u of us) {
    let best: string | undefined;
    let bestScore = -1;
    for (const m of ms) {
      if (room.get(m)! <= 0) continue;
      const score = mix(fnv1a32(`${u}\n${m}`));
      if (score > bestScore) {
        best = m;
        bestScore = score;
      }
    }
    out.set(u, best!);
    room.set(best!, room.get(best!)! - 1);
  }
  return out;
}

/** murmur3's finaliser: spreads FNV's weak low bits. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The units a catalog's scripts make: `<name>` for a script, `<name>.p<i>` for each of the
 * `partitions` of a partitioned one.
 *
 * @example
 * ```ts
 * unitsOf([{ name: 'bets', version: 1, format: 'lua', source: '…', partitions: 2, deployedAt: 0 }]).map((u) => u.id); // ['bets.p0', 'bets.p1']
 * ```
 */
export function unitsOf(scripts: readonly DeployedScript[]): WorkUnit[] {
  const out: WorkUnit[] = [];
  for (const script of scripts) {
    const n = script.partitions;
    if (n === undefined) out.push({ id: script.name, script });
    else for (let i = 0; i < n; i++) out.push({ id: `${script.name}.p${i}`, script, partition: { index: i, count: n } });
  }
  return out;
}

/** The nats client, loaded on first use (lib/cluster is core: it does not import the connectors family). */
function natsModule(): typeof import('nats') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, not at import
  return require('nats') as typeof import('nats');
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A member of a scale-out group. Through the group's NATS KV bucket (`groupBucket(group)`,
 * TTL = `leaseTimeout`) it heartbeats `members.<id>` (with what it runs, and scripts that failed
 * to build) every third of the lease timeout, computes from the live members and the catalog's
 * units which units are its own ({@link assignUnits}: every member gets the same answer),
 * acquires each with `create('lease.<unit>')` — the revision is the unit's epoch (fencing token)
 * — and renews it with `update(…, lastRevision)`. A unit whose lease cannot be renewed, or would
 * expire by this member's clock before a renewal got through, is stopped at once. Units
 * assigned elsewhere are released gracefully: drained (`handle.stop()`), then the lease is
 * deleted so the new owner takes over at once. A dead member's leases expire with the bucket's
 * TTL and are taken over at the next poll. A new script version is prepared first and replaces
 * the running one only if it builds; a version that fails to build is reported in the heartbeat,
 * logged once and never retried. A unit whose network ends on its own is released and not
 * restarted in a tight loop (backing off from 5s to 5 min).
 *
 * @example
 * ```ts
 * const member = new GroupMember({ nats: 'nats://127.0.0.1:4222', group: 'bets', catalog, factory, leaseTimeout: '10s', replicas: 3 });
 * await member.start();
 * // … later
 * await member.stop(); // drains its units, deletes its leases and heartbeat
 * ```
 */
export class GroupMember {
  readonly id: string;
  readonly group: string;
  private readonly leaseMs: number;
  private readonly logger: Logger;
  private readonly scheduler: SchedulerLike;
  private nc?: NatsConnection;
  private ownsConnection = false;
  private kv?: KV;
  /** The bucket and manager as polls use them: requests fail after a third of the lease. */
  private pollKv?: KV;
  private pollJsm?: JetStreamManager;
  private scripts: readonly DeployedScript[] = [];
  private unsubscribe?: () => void;
  private readonly timers: Subscription[] = [];
  private readonly owned = new Map<string, Owned>();
  private readonly failed = new Map<string, { version: number; error: string }>();
  /** Units whose network ended on its own: not started again before `until`. */
  private readonly backoff = new Map<string, { version: number; until: number; delay: number }>();
  private members: string[] = [];
  private assigned: string[] = [];
  private tickRunning?: Promise<void>;
  private tickAgain = false;
  private stopping?: Promise<void>;
  private readonly startedAt = Date.now();
  private readonly lastIn = new Map<string, { at: number; in: number }>();
  private pollErrors = 0;
  private watcher?: { stop(): void };
  /** Set on a reconnect: the next successful poll opens the bucket's watch again. */
  private rewatch = false;
  private statusEvents?: { stop(): void };

  constructor(private readonly options: GroupMemberOptions) {
    if (!options || typeof options !== 'object') throw new TributaryError('BAD_OPTION', 'GroupMember: options are required');
    if (typeof options.group !== 'string' || options.group === '') {
      throw new TributaryError('BAD_OPTION', "GroupMember: option 'group' must be a non-empty string");
    }
    if (typeof options.nats !== 'string' && (typeof options.nats !== 'object' || options.nats === null)) {
      throw new TributaryError('BAD_OPTION', "GroupMember: option 'nats' must be a NATS URL or a connection");
    }
    if (!options.catalog || typeof options.catalog.subscribe !== 'function') {
      throw new TributaryError('BAD_OPTION', "GroupMember: option 'catalog' must be a ScriptCatalog");
    }
    if (!options.factory || typeof options.factory.prepare !== 'function') {
      throw new TributaryError('BAD_OPTION', "GroupMember: option 'factory' must be a UnitFactory");
    }
    this.group = options.group;
    this.leaseMs = parseTimer(options.leaseTimeout ?? '10s', 'leaseTimeout');
    if (this.leaseMs < 300)
      throw new TributaryError('BAD_OPTION', `GroupMember: option 'leaseTimeout' must be at least 300ms, got ${this.leaseMs}ms`);
    if (options.replicas !== undefined) checkReplicas(options.replicas, "GroupMember: option 'replicas'");
    const id = options.memberId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
    if (typeof id !== 'string' || id === '')
      throw new TributaryError('BAD_OPTION', "GroupMember: option 'memberId' must be a non-empty string");
    this.id = id.replace(/[^A-Za-z0-9_-]/g, '_');
    this.logger = options.logger ?? { warn: (m) => console.warn(m), error: (m) => console.error(m), info: (m) => console.error(m) };
    this.scheduler = options.scheduler ?? asyncScheduler;
  }

  /** The scheduler's time when one is given; otherwise a monotonic clock (wall-clock jumps must not stretch a lease). */
  private now(): number {
    return this.options.scheduler ? this.scheduler.now() : performance.now();
  }

  private get where(): string {
    return `group '${this.group}' member '${this.id}'`;
  }

  /**
   * Connects, opens (or creates, with `replicas` copies) the group's bucket, writes the first
   * heartbeat and starts polling. Rejects with a message naming the group and the NATS address
   * if it cannot, or if the bucket's TTL or (when `replicas` is given) replica count differs.
   */
  async start(): Promise<void> {
    const nats = this.options.nats;
    const shown = typeof nats === 'string' ? shownUrl(nats) : 'NATS';
    try {
      if (typeof nats === 'string') {
        this.nc = await natsModule().connect({
          servers: nats,
          name: `tributary:group:${this.group}:${this.id}`,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
        this.ownsConnection = true;
      } else {
        this.nc = nats;
      }
      const third = Math.min(5000, Math.max(200, Math.floor(this.leaseMs / 3)));
      const opened = await openGroupKv(
        this.nc,
        groupBucket(this.group),
        { ttl: this.leaseMs, history: 1, timeout: third },
        this.options.replicas,
      );
      this.kv = opened.kv;
      // nats.js waits for a bucket's writes and reads as long as its JetStream client's `timeout`
      // (5 s by default), not the bucket's. Renewals keep that wait (the watchdog stops a unit
      // whose lease would lapse, whatever its renewal waits for; a shorter wait would only drop
      // units of a busy member). Polls give up after a third of the lease: one sent while NATS
      // was down must not hold up the polls once it is back (measured: recovery 4.5 s after a
      // server restart with a 3 s lease, the hung poll's 5 s).
      this.pollJsm = await this.nc.jetstreamManager({ timeout: third });
      this.pollKv = await this.nc.jetstream({ timeout: third }).views.kv(groupBucket(this.group), { bindOnly: true, timeout: third });
      const ttl = opened.status.ttl;
      if (ttl !== this.leaseMs) {
        // A shorter bucket TTL than this member's lease would let its leases lapse while it still runs units.
        throw new TributaryError(
          'BAD_OPTION',
          `the bucket exists with a TTL of ${ttl}ms, but this member's leaseTimeout is ${this.leaseMs}ms: every member of a group must use the same leaseTimeout`,
        );
      }
    } catch (e) {
      if (this.ownsConnection) await this.nc?.close().catch(() => undefined);
      const msg = typeof nats === 'string' ? redactUrlSecrets(nats, errorMessage(e)) : errorMessage(e);
      throw new TributaryError('BAD_OPTION', `${this.where}: cannot open bucket '${groupBucket(this.group)}' at ${shown}: ${msg}`, {
        cause: e,
      });
    }
    let subscribed = false;
    this.unsubscribe = this.options.catalog.subscribe((scripts) => {
      this.scripts = scripts;
      if (subscribed) this.poll();
    });
    subscribed = true;
    await this.watch();
    this.followReconnects();
    // Renewals and the watchdog run from before the first lease is taken.
    const third = Math.max(100, Math.floor(this.leaseMs / 3));
    this.every(third, () => this.renewAll());
    this.every(Math.max(50, Math.floor(this.leaseMs / 10)), () => this.watchdog());
    this.poll();
    await this.tickRunning;
    this.every(third, () => this.poll());
    this.logger.info?.(`${this.where} started (lease timeout ${this.leaseMs}ms)`);
  }

  /**
   * Polls at once when a member joins or leaves or a lease is released, instead of at the next
   * periodic poll: rebalancing and graceful handovers take a round trip, not a third of the lease.
   */
  private async watch(): Promise<void> {
    const { KvWatchInclude } = natsModule();
    const w = await this.kv!.watch({ headers_only: true, include: KvWatchInclude.UpdatesOnly });
    this.watcher = w;
    void (async () => {
      for await (const e of w) {
        if (this.stopping) break;
        const gone = e.operation !== 'PUT';
        if (e.key.startsWith('members.')) {
          if (gone || !this.members.includes(e.key.slice('members.'.length))) this.poll();
        } else if (e.key.startsWith('lease.') && gone) {
          this.poll();
        }
      }
    })().catch((e) => this.logger.debug?.(`${this.where}: watch ended: ${errorMessage(e)}`));
  }

  /**
   * A server that restarts forgets the watch's ephemeral consumer, and the client's watch then
   * stays silent without ending: after each reconnect the next successful poll opens it again.
   */
  private followReconnects(): void {
    // The client's status iterator can be stopped (so a borrowed connection keeps no listener of ours).
    const events = this.nc!.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
    this.statusEvents = { stop: () => events.stop?.() };
    void (async () => {
      for await (const s of events) {
        if (this.stopping) break;
        if (s.type === 'reconnect') {
          this.rewatch = true;
          this.poll();
        }
      }
    })().catch((e) => this.logger.debug?.(`${this.where}: connection events ended: ${errorMessage(e)}`));
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(
      this.scheduler.schedule(function () {
        fn();
        this.schedule(undefined, ms);
      }, ms),
    );
  }

  /** Runs a poll now, or right after the one under way. */
  private poll(): void {
    if (this.stopping || !this.kv) return;
    if (this.tickRunning) {
      this.tickAgain = true;
      return;
    }
    this.tickRunning = this.tick().finally(() => {
      this.tickRunning = undefined;
      if (this.tickAgain) {
        this.tickAgain = false;
        this.poll();
      }
    });
  }

  /** One poll: heartbeat, live members, assignment, then acquire, release and reload. */
  private async tick(): Promise<void> {
    const kv = this.pollKv!;
    try {
      await kv.put(`members.${this.id}`, enc.encode(JSON.stringify(this.info())));
      const live = new Set<string>([this.id]);
      for (const k of await liveKeys(this.pollJsm!, kv, groupBucket(this.group), 'members.')) live.add(k.slice('members.'.length));
      this.members = [...live].sort();
      if (this.rewatch) {
        this.watcher?.stop();
        await this.watch();
        this.rewatch = false;
        this.logger.info?.(`${this.where}: watching the group's bucket again after a reconnect`);
      }
      if (this.pollErrors > 0) this.logger.warn(`${this.where}: coordination through NATS works again`);
      this.pollErrors = 0;
    } catch (e) {
      if (this.pollErrors++ === 0) this.logger.error(`${this.where}: cannot reach the group's bucket: ${errorMessage(e)}; retrying`);
      return;
    }
    if (this.stopping) return;
    const units = unitsOf(this.scripts);
    const assignment = assignUnits(
      units.map((u) => u.id),
      this.members,
    );
    this.assigned = units.filter((u) => assignment.get(u.id) === this.id).map((u) => u.id);
    const present = new Set(units.map((u) => u.id));
    for (const o of this.owned.values()) if (!present.has(o.unit.id)) void this.release(o, 'its script was undeployed');
    for (const unit of units) {
      const o = this.owned.get(unit.id);
      const mine = assignment.get(unit.id) === this.id;
      if (o) {
        if (!mine) void this.release(o, `assigned to ${assignment.get(unit.id)}`);
        else if (o.phase === 'running' && o.unit.script.version !== unit.script.version && !this.blocked(unit)) {
          o.reloading = this.reload(o, unit).finally(() => (o.reloading = undefined));
        }
      } else if (mine && !this.blocked(unit)) {
        await this.acquire(unit);
      }
    }
  }

  /** True when this unit's version is not to be started: it failed to build, or it is backing off. */
  private blocked(unit: WorkUnit): boolean {
    if (this.failed.get(unit.script.name)?.version === unit.script.version) return true;
    const b = this.backoff.get(unit.id);
    return b !== undefined && b.version === unit.script.version && b.until > this.now();
  }

  private leaseValue(): Uint8Array {
    return enc.encode(JSON.stringify({ owner: this.id, at: Date.now() }));
  }

  private async acquire(unit: WorkUnit): Promise<void> {
    const key = `lease.${unit.id.replace(KEY_SAFE, '_')}`;
    const sent = this.now();
    let revision: number;
    try {
      revision = await this.kv!.create(key, this.leaseValue());
    } catch (e) {
      // Held by its previous owner until it releases it or the lease expires.
      this.logger.debug?.(`${this.where}: ${key} is still held (${errorMessage(e)})`);
      return;
    }
    if (this.stopping) {
      await this.kv!.delete(key, { previousSeq: revision }).catch(() => undefined);
      return;
    }
    let markStarted!: () => void;
    const o: Owned = {
      unit,
      key,
      revision,
      epoch: revision,
      renewedAt: sent,
      phase: 'starting',
      started: new Promise<void>((r) => (markStarted = r)),
      chain: Promise.resolve(),
      lost: false,
      released: false,
    };
    this.owned.set(unit.id, o);
    this.logger.info?.(`${this.where}: acquired ${unit.id} (version ${unit.script.version}, epoch ${revision})`);
    void this.startUnit(o).finally(markStarted);
  }

  private async startUnit(o: Owned): Promise<void> {
    const unit = o.unit;
    let handle: UnitHandle;
    try {
      const prepared = await this.options.factory.prepare(unit, { epoch: o.epoch });
      if (o.lost || o.phase !== 'starting') {
        await prepared.discard().catch(() => undefined);
        return;
      }
      handle = await prepared.start();
    } catch (e) {
      this.recordFailed(unit.script, e);
      o.phase = 'running'; // so that release proceeds
      void this.release(o, 'it failed to build');
      return;
    }
    if (o.lost || o.phase !== 'starting') {
      await handle.stop().catch((e) => this.logger.error(`${this.where}: stopping ${unit.id}: ${errorMessage(e)}`));
      return;
    }
    this.clearFailed(unit.script);
    o.handle = handle;
    o.phase = 'running';
    this.watchDone(o, handle);
  }

  private recordFailed(script: DeployedScript, e: unknown): void {
    const prev = this.failed.get(script.name);
    if (prev?.version === script.version) return;
    const error = errorMessage(e);
    this.failed.set(script.name, { version: script.version, error });
    this.logger.error(`${this.where}: script '${script.name}' version ${script.version} failed to build; not retried: ${error}`);
  }

  private clearFailed(script: DeployedScript): void {
    const prev = this.failed.get(script.name);
    if (prev && prev.version < script.version) this.failed.delete(script.name);
  }

  /** A unit whose network stopped on its own: release it and back off before running that version again. */
  private watchDone(o: Owned, handle: UnitHandle): void {
    void handle.done.then(
      ({ failure }) => {
        if (o.handle !== handle || o.phase !== 'running' || o.lost) return;
        const prev = this.backoff.get(o.unit.id);
        const delay = prev && prev.version === o.unit.script.version ? Math.min(prev.delay * 2, 300_000) : 5_000;
        this.backoff.set(o.unit.id, { version: o.unit.script.version, until: this.now() + delay, delay });
        const why = failure ? `failed: ${failure}` : 'ended (its sources completed)';
        this.logger[failure ? 'error' : 'warn'](
          `${this.where}: unit ${o.unit.id} (version ${o.unit.script.version}) ${why}; released, not started again for ${Math.round(delay / 1000)}s`,
        );
        o.handle = undefined;
        void this.release(o, 'its network ended');
      },
      () => undefined,
    );
  }

  /** Prepares the new version; only if it builds, drains the old one and starts the new one. */
  private async reload(o: Owned, unit: WorkUnit): Promise<void> {
    o.phase = 'reloading';
    let prepared;
    try {
      prepared = await this.options.factory.prepare(unit, { epoch: o.epoch });
    } catch (e) {
      this.recordFailed(unit.script, e);
      if (o.phase === 'reloading') o.phase = 'running';
      return;
    }
    if (o.lost || o.phase !== 'reloading') {
      await prepared.discard().catch(() => undefined);
      return;
    }
    const old = o.handle;
    o.handle = undefined;
    if (old) await old.stop().catch((e) => this.logger.error(`${this.where}: stopping ${o.unit.id}: ${errorMessage(e)}`));
    if (o.lost || o.phase !== 'reloading') {
      await prepared.discard().catch(() => undefined);
      return;
    }
    let handle: UnitHandle;
    try {
      handle = await prepared.start();
    } catch (e) {
      this.recordFailed(unit.script, e);
      if (o.phase === 'reloading') {
        o.phase = 'running';
        void this.release(o, 'its new version failed to start');
      }
      return;
    }
    this.logger.info?.(`${this.where}: ${unit.id} now runs version ${unit.script.version} (was ${o.unit.script.version})`);
    o.unit = unit;
    this.clearFailed(unit.script);
    this.backoff.delete(unit.id);
    if (o.lost || o.phase !== 'reloading') {
      await handle.stop().catch(() => undefined);
      return;
    }
    o.handle = handle;
    o.phase = 'running';
    this.watchDone(o, handle);
  }

  /** Drains the unit, then deletes its lease so the next owner takes it at once. */
  private async release(o: Owned, why: string): Promise<void> {
    if (o.phase === 'stopping' || o.lost) return;
    const wasStarting = o.phase === 'starting';
    o.phase = 'stopping';
    if (wasStarting) await o.started;
    if (o.reloading) await o.reloading;
    const h = o.handle;
    o.handle = undefined;
    if (h) await h.stop().catch((e) => this.logger.error(`${this.where}: stopping ${o.unit.id}: ${errorMessage(e)}`));
    if (!o.lost) {
      await (o.chain = o.chain.then(async () => {
        o.released = true;
        await this.kv!.delete(o.key, { previousSeq: o.revision });
      })).catch((e) => this.logger.debug?.(`${this.where}: deleting ${o.key}: ${errorMessage(e)} (it expires anyway)`));
    }
    if (this.owned.get(o.unit.id) === o) this.owned.delete(o.unit.id);
    this.logger.info?.(`${this.where}: released ${o.unit.id} (${why})`);
  }

  /** Stops a unit whose lease is gone or may be: no processing without a lease. */
  private lose(o: Owned, why: string): void {
    if (o.lost) return;
    o.lost = true;
    if (this.owned.get(o.unit.id) === o) this.owned.delete(o.unit.id);
    this.logger.error(`${this.where}: lost the lease on ${o.unit.id} (${why}); stopping it now`);
    const h = o.handle;
    o.handle = undefined;
    if (h) void h.stop().catch((e) => this.logger.error(`${this.where}: stopping ${o.unit.id}: ${errorMessage(e)}`));
  }

  private renewAll(): void {
    if (!this.kv) return;
    for (const o of this.owned.values()) {
      if (o.lost || o.released) continue;
      o.chain = o.chain.then(async () => {
        if (o.lost || o.released) return;
        const sent = this.now();
        try {
          o.revision = await this.kv!.update(o.key, this.leaseValue(), o.revision);
          o.renewedAt = sent;
        } catch (e) {
          this.lose(o, `renewal failed: ${errorMessage(e)}`);
        }
      });
    }
  }

  /** Stops units whose lease would expire (by our clock) before the next check. */
  private watchdog(): void {
    const margin = Math.max(50, Math.floor(this.leaseMs / 10));
    for (const o of [...this.owned.values()]) {
      if (o.released) continue;
      const left = o.renewedAt + this.leaseMs - this.now();
      if (left <= margin) this.lose(o, `not renewed for ${Math.round(this.now() - o.renewedAt)}ms of a ${this.leaseMs}ms lease`);
    }
  }

  private info(): MemberInfo {
    const units: Record<string, UnitStats> = {};
    const now = this.now();
    for (const o of this.owned.values()) {
      if (!o.handle) continue;
      try {
        const s = o.handle.stats();
        const last = this.lastIn.get(o.unit.id);
        const rate = last && now > last.at ? ((s.in - last.in) * 1000) / (now - last.at) : s.rate;
        this.lastIn.set(o.unit.id, { at: now, in: s.in });
        units[o.unit.id] = { ...s, rate: Math.max(0, rate) };
      } catch (e) {
        this.logger.debug?.(`${this.where}: stats of ${o.unit.id}: ${errorMessage(e)}`);
      }
    }
    return {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      at: Date.now(),
      units,
      ...(this.failed.size ? { failed: Object.fromEntries(this.failed) } : {}),
    };
  }

  /**
   * What this member holds and knows now (its view as of the last poll).
   *
   * @example
   * ```ts
   * member.snapshot().units; // { 'bets.p3': { id: 'bets.p3', script: 'bets', version: 2, epoch: 41, phase: 'running' }, … }
   * ```
   */
  snapshot(): GroupSnapshot {
    const units: Record<string, OwnedUnitSnapshot> = {};
    for (const o of this.owned.values()) {
      units[o.unit.id] = { id: o.unit.id, script: o.unit.script.name, version: o.unit.script.version, epoch: o.epoch, phase: o.phase };
    }
    return {
      id: this.id,
      group: this.group,
      members: [...this.members],
      units,
      assigned: [...this.assigned],
      failed: Object.fromEntries(this.failed),
    };
  }

  /**
   * Leaves the group: stops polling, drains every unit, deletes its leases (so others take them
   * over at once) and its heartbeat, and closes its own connection. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.unsubscribe?.();
      this.statusEvents?.stop();
      this.watcher?.stop();
      if (this.tickRunning) await this.tickRunning.catch(() => undefined);
      // Leaving first: the others plan without this member at once and take each unit as soon
      // as its lease is deleted below.
      if (this.kv) await this.kv.delete(`members.${this.id}`).catch(() => undefined);
      // Renewals and the watchdog go on while units drain: a lease must not lapse meanwhile.
      await Promise.all([...this.owned.values()].map((o) => this.release(o, 'the member stops')));
      for (const t of this.timers.splice(0)) t.unsubscribe();
      if (this.ownsConnection && this.nc && !this.nc.isClosed()) {
        // A drain needs the server's answers: bounded, then closed, so a cut-off member still stops.
        const nc = this.nc;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([nc.drain().catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 2000)))]);
        clearTimeout(timer);
        if (!nc.isClosed()) await nc.close().catch(() => undefined);
      }
      this.logger.info?.(`${this.where} stopped`);
    })();
    return this.stopping;
  }
}

/** What {@link readGroup} returns: the group as its bucket shows it now. */
export interface GroupView {
  /** Live members' heartbeats, by id. */
  readonly members: readonly MemberInfo[];
  /** Held leases: the unit, its owner and epoch (the revision of its acquisition is not kept; this is the latest write's). */
  readonly leases: ReadonlyArray<{ unit: string; owner: string; revision: number }>;
}

/**
 * Reads a group's bucket once: the live members' heartbeats and the held leases (for
 * `tributary ps` and tests). An absent bucket reads as an empty group.
 *
 * @example
 * ```ts
 * const { members, leases } = await readGroup(nc, 'bets');
 * ```
 */
export async function readGroup(nc: NatsConnection, group: string): Promise<GroupView> {
  let kv: KV;
  try {
    kv = await nc.jetstream().views.kv(groupBucket(group), { bindOnly: true });
  } catch {
    return { members: [], leases: [] };
  }
  const members: MemberInfo[] = [];
  const leases: Array<{ unit: string; owner: string; revision: number }> = [];
  for (const k of await liveKeys(await nc.jetstreamManager(), kv, groupBucket(group), '')) {
    const e = await kv.get(k);
    if (!e || e.operation !== 'PUT') continue;
    const v = decodeEntry<Record<string, unknown>>(e.value);
    if (!v) continue;
    if (k.startsWith('members.')) members.push(v as unknown as MemberInfo);
    else if (k.startsWith('lease.')) leases.push({ unit: k.slice('lease.'.length), owner: String(v.owner), revision: e.revision });
  }
  return { members, leases };
}

/**
 * The keys under `prefix` whose latest entry is a value (not a delete), sorted. Read from the
 * bucket's stream info (subjects with messages) rather than `kv.keys()`, whose ordered consumer
 * can wait forever on a bucket whose entries expire and change while it lists them.
 */
async function liveKeys(jsm: JetStreamManager, kv: KV, bucket: string, prefix: string): Promise<string[]> {
  const head = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${head}${prefix}>` });
  const subjects = Object.keys(info.state.subjects ?? {}).sort();
  const out: string[] = [];
  for (const subject of subjects) {
    const key = subject.slice(head.length);
    const e = await kv.get(key);
    if (e && e.operation === 'PUT') out.push(key);
  }
  return out;
}

/** Reads a KV entry's JSON value; undefined for a missing or unreadable one. */
function decodeEntry<T>(value: Uint8Array | undefined): T | undefined {
  if (!value || value.length === 0) return undefined;
  try {
    return JSON.parse(dec.decode(value)) as T;
  } catch {
    return undefined;
  }
}
