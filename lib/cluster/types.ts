// The scale-out contracts (issue 17, docs/scale-out.md). Two halves meet here:
// - coordination (lib/cluster/group.ts …): members, leases and fencing in a NATS KV bucket,
//   which units run where, rebalancing when members join, leave or die;
// - running (lib/cluster/runner.ts …): how a unit (a script, or one partition of it) is built
//   from its source text, started, drained and replaced by a newer version.
// Neither half reaches into the other: the group calls a UnitFactory for units it won, and the
// catalog tells it which units exist.

/**
 * The partition one network instance owns in a partitioned group run. Nodes see it as
 * `ctx.partition`: a JetStream `nats_source` whose subject ends in `.*` or `.>` then reads only
 * `<prefix>.<index>` through the durable `<durable>_p<index>`; keyed state is checkpointed under
 * the partition's own namespace, so the next owner restores exactly this partition's state.
 *
 * @example
 * ```ts
 * new Network({ partition: { group: 'bets', index: 3, count: 16, epoch: 41 } });
 * ```
 */
export interface PartitionAssignment {
  /** The group's name (`--group`). */
  readonly group: string;
  /** 0 ≤ index < count. */
  readonly index: number;
  /** How many partitions the stream is split into (`--partitions`, default 16). */
  readonly count: number;
  /**
   * The fencing token of the lease this instance holds on the partition: the NATS KV revision
   * at which it was acquired, greater than any earlier owner's. Stale owners are fenced by it.
   */
  readonly epoch: number;
}

/** How scripts are written: picked by file extension or `--format`. */
export type ScriptFormat = 'lua' | 'yaml' | 'json' | 'agglo';

/**
 * A script stored by `tributary deploy`: the value of key `<name>` in the KV bucket
 * `tributary_scripts_<group>`. `version` grows by one with each deploy of that name.
 *
 * @example
 * ```ts
 * const s: DeployedScript = { name: 'liability', version: 3, format: 'lua', source: 'tb.link(...)', partitions: 16, deployedAt: Date.now() };
 * ```
 */
export interface DeployedScript {
  readonly name: string;
  readonly version: number;
  readonly format: ScriptFormat;
  /** The script's text (UTF-8). Files it requires must be deployed with it (not supported: say so). */
  readonly source: string;
  /** Partitioned: run as this many partitions across the group; absent: one instance runs it. */
  readonly partitions?: number;
  /** Epoch ms of the deploy. */
  readonly deployedAt: number;
  /** Who deployed it (user@host), for `ps`. */
  readonly deployedBy?: string;
}

/**
 * One thing a group member may run: a whole script, or one partition of a partitioned script.
 * Its `id` is the lease key's suffix: `<script>` or `<script>.p<index>`.
 */
export interface WorkUnit {
  readonly id: string;
  readonly script: DeployedScript;
  /** Present for a partitioned script's unit (the epoch filled in from the lease when it runs). */
  readonly partition?: { readonly index: number; readonly count: number };
}

/** What a running unit reports for `tributary ps` (kept in the member's heartbeat). */
export interface UnitStats {
  /** Events out of its sources since it started. */
  readonly in: number;
  /** Events into its sinks since it started. */
  readonly out: number;
  /** Error events since it started. */
  readonly errors: number;
  /** Events per second out of its sources, over the last heartbeat interval. */
  readonly rate: number;
  /** The version of the script it runs. */
  readonly version: number;
}

/** A unit that is running. */
export interface UnitHandle {
  readonly unit: WorkUnit;
  stats(): UnitStats;
  /**
   * Drains the network (sources stop fetching, events in flight settle, the last checkpoint is
   * written), then resolves. Called when the lease is released, lost or the unit is replaced.
   */
  stop(): Promise<void>;
  /** Resolves when the network stopped on its own (its sources ended, or it broke: `failure`). */
  readonly done: Promise<{ failure?: string }>;
}

/** A unit whose network is built (the script ran, nodes validated) but not started. */
export interface PreparedUnit {
  readonly unit: WorkUnit;
  /** Starts the network; sources begin fetching. */
  start(): Promise<UnitHandle>;
  /** Frees what building took (the Lua VM) without starting. */
  discard(): Promise<void>;
}

/**
 * Builds units (implemented in lib/cluster/runner.ts). Throws a `TributaryError` naming the
 * script (and line) when the script does not build: the group reports it under the script's
 * version and does not retry that version.
 *
 * On a hot reload the group calls `prepare(new)` while the old version still runs, then
 * `old.stop()`, then `new.start()`, passing the same lease epoch both times. So a partitioned
 * unit should claim its fence (`claimFence`, lib/cluster/fence.ts) in `start()`, not in
 * `prepare()`: claimed earlier, it would fence the old version's last checkpoint.
 */
export interface UnitFactory {
  prepare(unit: WorkUnit, lease: { epoch: number }): Promise<PreparedUnit>;
}

/**
 * The scripts a group runs, as they change: a deployed-scripts bucket being watched (`agent`),
 * or one local file (`run --group`, `run --watch`). `subscribe` calls `onChange` with the whole
 * current list at once and again after every change; returns an unsubscribe function.
 */
export interface ScriptCatalog {
  subscribe(onChange: (scripts: readonly DeployedScript[]) => void): () => void;
  close(): Promise<void>;
}

/** A member's heartbeat: the value of `members.<id>` in the group's bucket. */
export interface MemberInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  /** Epoch ms of this heartbeat. */
  readonly at: number;
  /** What it runs now, by unit id. */
  readonly units: Readonly<Record<string, UnitStats>>;
  /** Scripts that failed to build here, by name: the version and the error. */
  readonly failed?: Readonly<Record<string, { version: number; error: string }>>;
}

/**
 * Names in NATS: the group's coordination bucket holds `members.<id>` (heartbeats),
 * `lease.<unit id>` (`{ owner, at }`; its KV revision is the epoch) and `status.<script>`.
 *
 * @example
 * ```ts
 * groupBucket('bets'); // 'tributary_group_bets'
 * ```
 */
export function groupBucket(group: string): string {
  return `tributary_group_${bucketSafe(group)}`;
}

/**
 * The bucket `tributary deploy` writes scripts to.
 *
 * @example
 * ```ts
 * scriptsBucket('bets'); // 'tributary_scripts_bets'
 * ```
 */
export function scriptsBucket(group: string): string {
  return `tributary_scripts_${bucketSafe(group)}`;
}

/** A group name as a bucket-name part: letters, digits, `-` and `_` only (others become `_`). */
function bucketSafe(group: string): string {
  return group.replace(/[^A-Za-z0-9_-]/g, '_');
}
