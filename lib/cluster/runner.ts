// The running half of scale-out (issue 17, docs/deploy.md): builds a work unit's network from
// its script text the way `tributary run` builds one from files, starts it, reports its
// counters and drains it. The group (lib/cluster/group.ts) decides which units run here.
import { CliError } from '../cli/exit';
import { buildSession, type Session, type SessionOptions, type ScriptText } from '../cli/session';
import { TributaryError, errorMessage } from '../errors';
import type { Network, NetworkReport } from '../network/network';
import type { Logger } from '../nodes/types';
import type { KeyValueStore } from '../state/types';
import { ensurePartitionDatabase, partitionWindowUrl } from '../windows/partition-db';
import { claimFence, fenceKey } from './fence';
import type { DeployedScript, PreparedUnit, ScriptFormat, UnitFactory, UnitHandle, UnitStats, WorkUnit } from './types';

/** Writes `epoch` to the fence key of a partition's state namespace (lib/cluster/fence.ts). */
export type ClaimFence = (store: KeyValueStore, key: string, epoch: number) => Promise<{ version: number }>;

/** Options of {@link unitFactory}. */
export interface UnitFactoryOptions {
  /** The group the units belong to: part of the partition assignment and the state namespace. */
  readonly group: string;
  /**
   * How scripts are built: plugins, host modules, the sandbox, `--allow-files`, `--allow-exec`,
   * the script timeout, the drain timeout, the window database (as for `tributary run`).
   */
  readonly session?: Omit<SessionOptions, 'state' | 'partition' | 'virtual'>;
  /**
   * Checkpoint keyed state to this store: each unit under the namespace
   * `<group>/<script>/` (or `<group>/<script>/p<index>/` for a partition), so the next owner of
   * the unit, or the next version of the script, restores it.
   */
  readonly state?: { readonly store: KeyValueStore; readonly checkpointInterval?: string };
  /** Fences a partition's state against its previous owner; default {@link claimFence}. */
  readonly claimFence?: ClaimFence;
  /**
   * One state namespace for every unit instead of `<group>/<script>/…` (`run --watch` keeps the
   * namespace of a plain `run`, `''`, so state carries over between the two).
   */
  readonly namespace?: string;
  /** Called with each network built, before it starts (to provide services, as `run` does). */
  readonly onBuilt?: (network: Network) => void;
  /** Where units report (fenced, stopped on their own); default the session's logger or stderr. */
  readonly logger?: Logger;
  /** The clock rates are measured on (ms); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The file name a script's errors are reported under: `<name>.lua`, `<name>.yaml` …, so a
 * message reads `liability.lua:12: …`.
 *
 * @example
 * ```ts
 * scriptFileName({ name: 'liability', format: 'lua' }); // 'liability.lua'
 * ```
 */
export function scriptFileName(script: Pick<DeployedScript, 'name' | 'format'>): string {
  const ext: Record<ScriptFormat, string> = { lua: 'lua', yaml: 'yaml', json: 'json', agglo: 'yaml' };
  return `${script.name}.${ext[script.format]}`;
}

/**
 * The state namespace of a unit: `<group>/<script>/` for a whole script, `<group>/<script>/p<i>/`
 * for partition `i`. The same for every version of the script, so state carries over a redeploy.
 *
 * @example
 * ```ts
 * stateNamespace('bets', { id: 'liability.p3', script, partition: { index: 3, count: 16 } }); // 'bets/liability/p3/'
 * ```
 */
export function stateNamespace(group: string, unit: WorkUnit): string {
  return `${group}/${unit.script.name}/${unit.partition ? `p${unit.partition.index}/` : ''}`;
}

/**
 * The {@link UnitFactory} of `tributary agent` and `tributary run --group`/`--watch`: `prepare`
 * builds the unit's network from its script text (Lua, a YAML/JSON network or an agglo config)
 * with the partition assignment and the state namespace; a script that does not build is a
 * `TributaryError` (`SCRIPT`) naming the script, its version and the line. `start()` claims the
 * partition's fence with the lease epoch (when state is checkpointed: `<namespace>#fence`) and
 * starts the network; when a newer owner fences it, the unit stops on its own.
 *
 * @example
 * ```ts
 * const factory = unitFactory({ group: 'bets', state: { store: await openStateStore('redis://127.0.0.1:6379') } });
 * const prepared = await factory.prepare(unit, { epoch: 41 });
 * const handle = await prepared.start();
 * handle.stats(); // { in, out, errors, rate, version }
 * await handle.stop();
 * ```
 */
export function unitFactory(options: UnitFactoryOptions): RunnerFactory {
  return { prepare: (unit, lease) => prepareUnit(options, unit, lease.epoch) };
}

/** A {@link UnitFactory} whose units are {@link RunnerPreparedUnit}s. */
export interface RunnerFactory extends UnitFactory {
  prepare(unit: WorkUnit, lease: { epoch: number }): Promise<RunnerPreparedUnit>;
}

/** A running unit of this factory: its network too (for the stop report). */
export interface RunnerHandle extends UnitHandle {
  readonly network: Network;
}

/** A prepared unit of this factory, whose handle has the network. */
export interface RunnerPreparedUnit extends PreparedUnit {
  start(): Promise<RunnerHandle>;
}

async function prepareUnit(options: UnitFactoryOptions, unit: WorkUnit, epoch: number): Promise<RunnerPreparedUnit> {
  const { script } = unit;
  const namespace = options.namespace ?? stateNamespace(options.group, unit);
  const fenced = options.state !== undefined && unit.partition !== undefined;
  const logger = options.logger ?? options.session?.logger;
  const text: ScriptText = { name: scriptFileName(script), source: script.source, format: script.format };
  let onFenced = () => {};
  const build = (fence?: { key: string; version: number }) =>
    buildUnitSession(options, unit, text, epoch, namespace, fence ? { ...fence, onFenced: () => onFenced() } : undefined);
  // A fenced unit claims its fence only at start: claiming it while the previous version of
  // the script still drains would fence that version's last checkpoint. So prepare builds
  // once to find errors, and start builds again with the claimed fence.
  let session: Session | undefined = await build(fenced ? { key: fenceKey(namespace), version: 1 } : undefined);
  if (fenced) {
    await session.close();
    session = undefined;
  }
  let settled = false;
  return {
    unit,
    discard: async () => {
      if (settled) return;
      settled = true;
      await session?.close();
    },
    start: async () => {
      if (settled) throw new TributaryError('BAD_OPTION', `unit '${unit.id}': already started or discarded`);
      settled = true;
      if (!session) {
        const key = fenceKey(namespace);
        const { version } = await (options.claimFence ?? claimFence)(options.state!.store, key, epoch);
        session = await build({ key, version });
      }
      const { network } = session;
      try {
        await network.start();
      } catch (e) {
        await session.close();
        throw new TributaryError('SCRIPT', `script '${script.name}' version ${script.version}: ${errorMessage(e)}`, { cause: e });
      }
      const handle = runningUnit(unit, network, session, options.now ?? Date.now);
      onFenced = () => {
        logger?.warn(`unit '${unit.id}' (version ${script.version}): fenced by a newer owner (epoch > ${epoch}); stopping`);
        void handle.stop();
      };
      return handle;
    },
  };
}

async function buildUnitSession(
  options: UnitFactoryOptions,
  unit: WorkUnit,
  text: ScriptText,
  epoch: number,
  namespace: string,
  fence: { key: string; version: number; onFenced: () => void } | undefined,
): Promise<Session> {
  const { script } = unit;
  try {
    // Each partition's SQL windows get their own database (file, schema or database), so one
    // partition's queries never see another's rows.
    const db =
      options.session?.db !== undefined && unit.partition ? partitionWindowUrl(options.session.db, unit.partition.index) : undefined;
    if (db !== undefined) await ensurePartitionDatabase(db);
    const session = await buildSession([text], {
      ...options.session,
      ...(db !== undefined ? { db } : {}),
      ...(options.logger && !options.session?.logger ? { logger: options.logger } : {}),
      ...(unit.partition ? { partition: { group: options.group, index: unit.partition.index, count: unit.partition.count, epoch } } : {}),
      ...(options.state
        ? {
            state: {
              store: options.state.store,
              namespace,
              ...(options.state.checkpointInterval !== undefined ? { checkpointInterval: options.state.checkpointInterval } : {}),
              ...(fence ? { fence } : {}),
            },
          }
        : {}),
    });
    options.onBuilt?.(session.network);
    return session;
  } catch (e) {
    const message = e instanceof CliError || e instanceof TributaryError ? e.message : errorMessage(e);
    throw new TributaryError('SCRIPT', `script '${script.name}' version ${script.version}: ${message}`, { cause: e });
  }
}

function runningUnit(unit: WorkUnit, network: Network, session: Session, now: () => number): RunnerHandle {
  let stopping: Promise<void> | undefined;
  let last = { at: now(), in: 0 };
  const done = network.done().then(
    (report: NetworkReport) => (report.failure !== undefined ? { failure: report.failure } : {}),
    (e: unknown) => ({ failure: errorMessage(e) }),
  );
  // A network that stopped on its own (sources ended, it broke) frees its VM too.
  void done.then(() => session.close()).catch(() => undefined);
  const totals = (): { in: number; out: number; errors: number } => {
    const t = { in: 0, out: 0, errors: 0 };
    for (const [name, s] of Object.entries(network.stats())) {
      const role = network.get(name)?.role;
      if (role === 'source') t.in += s.out;
      if (role === 'sink') t.out += s.in;
      t.errors += s.errors;
    }
    return t;
  };
  return {
    unit,
    network,
    done,
    stats: (): UnitStats => {
      const t = totals();
      const at = now();
      const seconds = (at - last.at) / 1000;
      const rate = seconds > 0 ? Math.max(0, t.in - last.in) / seconds : 0;
      last = { at, in: t.in };
      return { ...t, rate: Math.round(rate * 10) / 10, version: unit.script.version };
    },
    stop: () =>
      (stopping ??= (async () => {
        if (network.state !== 'stopped') await network.stop();
        await session.close();
      })()),
  };
}
