import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { fileCatalog, kvCatalog } from '../../cluster/catalog';
import { scriptsKv } from '../../cluster/deploy';
import { openGroupKv } from '../../cluster/buckets';
import { GroupMember } from '../../cluster/group';
import { unitFactory } from '../../cluster/runner';
import { groupBucket, type MemberInfo, type ScriptCatalog, type UnitStats } from '../../cluster/types';
import { defaultNatsUrl } from '../../connectors/nats/connection';
import { parseTimer } from '../../duration';
import { errorMessage } from '../../errors';
import { redact, urlSecrets } from '../../util/redact';
import { CliError, EXIT, type CliIO } from '../exit';
import { checkStateFlags, openStateFlag } from '../state-flags';
import { createCliLogger, type LogFormat, type LogLevel } from '../logging';
import type { SessionOptions } from '../session';
import { checkGroup, checkReplicasFlag, connectNats } from './deploy';

/** Options of `tributary agent` (and of `run --group --partitions N`). */
export interface AgentOptions extends SessionOptions {
  /** `--group`: the group to join. */
  group: string;
  /** `--state-store`: where partitions' keyed state is checkpointed (shared by the group). */
  stateStore?: string;
  /** `--checkpoint-interval`: default 1 s. */
  checkpointInterval?: string;
  /** `--lease-timeout`: how long a dead member's units wait before they are taken over; default 10 s. The same on every member. */
  leaseTimeout?: string;
  /** `--nats`: default `TRIBUTARY_NATS_URL` or `nats://127.0.0.1:4222`. */
  nats?: string;
  /**
   * `--replicas N` (1 … 5): copies of the group's buckets (and, for `agent`, of its scripts
   * bucket) when they are created; existing ones must have N. Absent: 1 for a new bucket, an
   * existing one as it is.
   */
  replicas?: number;
  /** `--member-id`: default `<host>-<pid>-<random>`. */
  memberId?: string;
  /** `--for`: leave the group after this long (tests, demos); default until SIGINT/SIGTERM. */
  for?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** Leaves the group as SIGTERM does (programs and tests running the command in process). */
  signal?: AbortSignal;
}

/**
 * `tributary agent --group <g>`: joins the group and runs its share of the scripts deployed to
 * it (`tributary deploy`), taking over units of members that leave or die, replacing a unit
 * when a new version of its script builds. SIGINT/SIGTERM drains its units, releases their
 * leases and leaves (exit 0).
 *
 * @example
 * ```ts
 * process.exitCode = await agentCommand({ group: 'bets', stateStore: 'redis://127.0.0.1:6379' }, process);
 * ```
 */
export async function agentCommand(options: AgentOptions, io: CliIO): Promise<number> {
  const replicas = options.replicas !== undefined ? { replicas: options.replicas } : {};
  return runMember(
    async (nc, say) => {
      // Opened once here so that a bucket with another replica count stops the agent at start
      // (the catalog only reports what goes wrong while it watches).
      await scriptsKv(nc, options.group, replicas);
      return kvCatalog(nc, options.group, { onProblem: say, ...replicas });
    },
    options,
    io,
  );
}

/**
 * `tributary run <file> --group <g> --partitions N`: the one local script as a partitioned
 * group run: this process is a member of the group and runs its share of the N partitions
 * (`--watch`: a new version of the file replaces the running one where it builds).
 *
 * @example
 * ```ts
 * process.exitCode = await runPartitioned('net.lua', { group: 'bets', partitions: 16 }, process);
 * ```
 */
export async function runPartitioned(
  file: string,
  options: AgentOptions & { partitions: number; watch?: boolean },
  io: CliIO,
): Promise<number> {
  return runMember(
    (_nc, say) => fileCatalog(file, { partitions: options.partitions, watch: options.watch === true, onProblem: say }),
    options,
    io,
  );
}

async function runMember(
  makeCatalog: (nc: NatsConnection, say: (m: string) => void) => ScriptCatalog | Promise<ScriptCatalog>,
  options: AgentOptions,
  io: CliIO,
): Promise<number> {
  checkGroup(options.group);
  checkReplicasFlag(options.replicas);
  const leaseTimeout = options.leaseTimeout ?? '10s';
  let duration: number | undefined;
  try {
    if (parseTimer(leaseTimeout, '--lease-timeout') < 300) throw new Error(`--lease-timeout ${leaseTimeout}: at least 300ms`);
    if (options.for !== undefined) duration = parseTimer(options.for, '--for');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  checkStateFlags(options);
  const nats = options.nats ?? defaultNatsUrl();
  const secrets = [
    ...urlSecrets(nats),
    ...(options.stateStore ? urlSecrets(options.stateStore) : []),
    ...(options.db ? urlSecrets(options.db) : []),
  ];
  const logger = createCliLogger({ level: options.logLevel, format: options.logFormat, stream: io.stderr, secrets });
  const say = (m: string) => void io.stderr.write(`tributary: ${redact(m, secrets)}\n`);
  const store = await openStateFlag(options.stateStore);
  let nc: NatsConnection | undefined;
  let catalog: ScriptCatalog | undefined;
  let member: GroupMember | undefined;
  try {
    nc = await connectNats(nats, `group:${options.group}`, { reconnect: true });
    try {
      catalog = await makeCatalog(nc, say);
    } catch (e) {
      throw new CliError(EXIT.RUNTIME, redact(errorMessage(e), secrets));
    }
    const {
      group,
      stateStore: _s,
      checkpointInterval,
      leaseTimeout: _l,
      nats: _n,
      replicas,
      memberId,
      for: _f,
      logLevel: _ll,
      logFormat: _lf,
      signal,
      ...session
    } = options;
    const factory = unitFactory({
      group,
      session: { ...session, logger, secrets },
      ...(store ? { state: { store, ...(checkpointInterval !== undefined ? { checkpointInterval } : {}) } } : {}),
      logger,
    });
    member = new GroupMember({
      nats: nc,
      group,
      catalog,
      factory,
      leaseTimeout,
      logger,
      ...(replicas !== undefined ? { replicas } : {}),
      ...(memberId !== undefined ? { memberId } : {}),
    });
    try {
      await member.start();
    } catch (e) {
      throw new CliError(EXIT.RUNTIME, redact(errorMessage(e), secrets));
    }
    say(`member ${member.id} joined group ${group} (lease timeout ${leaseTimeout})`);
    const reason = await waitForSignal(duration, signal);
    say(`member ${member.id} leaving group ${group} (${reason}): draining its units`);
    await member.stop();
    return EXIT.OK;
  } finally {
    await member?.stop().catch(() => undefined);
    await catalog?.close();
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc?.close());
    await store?.close();
  }
}

/**
 * Shows a `run --group` process that runs the whole network (no `--partitions`) in the group
 * without taking part in assignment: its heartbeat `members.<id>` lists the network as the
 * unit `<name>`, for `tributary ps`. Resolves to a function that removes the heartbeat. A
 * missing group bucket is created with `replicas` copies (default 1); when `replicas` is given,
 * an existing bucket must have that many.
 *
 * @example
 * ```ts
 * const leave = await showInGroup(nc, 'bets', 10_000, 'net', () => stats, 3);
 * await leave();
 * ```
 */
export async function showInGroup(
  nc: NatsConnection,
  group: string,
  leaseMs: number,
  unit: string,
  stats: () => UnitStats,
  replicas?: number,
): Promise<() => Promise<void>> {
  const { kv } = await openGroupKv(nc, groupBucket(group), { ttl: leaseMs, history: 1 }, replicas);
  const id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const startedAt = Date.now();
  const beat = async () => {
    const info: MemberInfo = { id, host: hostname(), pid: process.pid, startedAt, at: Date.now(), units: { [unit]: stats() } };
    await kv.put(`members.${id}`, JSON.stringify(info)).catch(() => undefined);
  };
  await beat();
  const timer = setInterval(() => void beat(), Math.max(100, Math.floor(leaseMs / 3)));
  return async () => {
    clearInterval(timer);
    await kv.delete(`members.${id}`).catch(() => undefined);
  };
}

/** Resolves on SIGINT/SIGTERM, `abort`, or after `duration` ms. */
function waitForSignal(duration: number | undefined, abort?: AbortSignal): Promise<'signal' | 'duration'> {
  return new Promise((resolve) => {
    const timer = duration !== undefined ? setTimeout(() => end('duration'), duration) : undefined;
    const onSignal = () => end('signal');
    if (abort?.aborted) return resolve('signal');
    abort?.addEventListener('abort', onSignal, { once: true });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    function end(reason: 'signal' | 'duration') {
      if (timer) clearTimeout(timer);
      abort?.removeEventListener('abort', onSignal);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve(reason);
    }
  });
}
