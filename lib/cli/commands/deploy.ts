import { readFileSync } from 'node:fs';
import { userInfo, hostname } from 'node:os';
import * as path from 'node:path';
import type { NatsConnection } from 'nats';
import { scriptFormatOf } from '../../cluster/catalog';
import { checkReplicas } from '../../cluster/buckets';
import { checkScriptName, deploy, undeploy } from '../../cluster/deploy';
import { unitFactory } from '../../cluster/runner';
import type { ScriptFormat } from '../../cluster/types';
import { defaultNatsUrl, natsModule } from '../../connectors/nats/connection';
import { errorMessage } from '../../errors';
import { redactUrlSecrets, shownUrl } from '../../util/redact';
import { CliError, EXIT, type CliIO } from '../exit';
import type { SessionOptions } from '../session';

/** Options of `tributary deploy`. */
export interface DeployOptions extends SessionOptions {
  /** `--group`: the group whose agents run the script. */
  group: string;
  /** `--name`: default the file name without its extension. */
  name?: string;
  /** `--partitions N`: run as N partitions across the group. */
  partitions?: number;
  /** `--format`: default by extension (`.lua`, `.yaml`/`.yml`, `.json`). */
  format?: ScriptFormat;
  /** `--nats`: default `TRIBUTARY_NATS_URL` or `nats://127.0.0.1:4222`. */
  nats?: string;
  /** `--replicas N` (1 … 5): copies of the scripts bucket when it is created; an existing one must have N. */
  replicas?: number;
}

/**
 * Connects the CLI to NATS (one attempt, 5 s; with `reconnect` it then reconnects for ever); a failure is a `CliError` (exit 1) showing the
 * address without its password.
 *
 * @example
 * ```ts
 * const nc = await connectNats('nats://127.0.0.1:4222', 'deploy');
 * ```
 */
export async function connectNats(url: string | undefined, who: string, options: { reconnect?: boolean } = {}): Promise<NatsConnection> {
  const servers = url ?? defaultNatsUrl();
  try {
    return await natsModule().connect({
      servers,
      name: `tributary:${who}`,
      timeout: 5000,
      // A long-lived member rides out a NATS restart.
      ...(options.reconnect ? { maxReconnectAttempts: -1, reconnectTimeWait: 1000 } : {}),
    });
  } catch (e) {
    throw new CliError(EXIT.RUNTIME, `cannot connect to NATS at ${shownUrl(servers)}: ${redactUrlSecrets(servers, errorMessage(e))}`);
  }
}

/**
 * `tributary deploy <file> --group <g>`: builds the script locally as the agents will (from its
 * text, with a partition when `--partitions` is given) and, only if it builds, stores it in the
 * group's scripts bucket as the next version. A script that does not build is refused with its
 * error (exit 2); NATS unreachable is exit 1.
 *
 * @example
 * ```ts
 * process.exitCode = await deployCommand('net.lua', { group: 'bets', name: 'liability', partitions: 16 }, process);
 * ```
 */
export async function deployCommand(file: string, options: DeployOptions, io: CliIO): Promise<number> {
  const name = options.name ?? path.basename(file).replace(/\.[^.]*$/, '');
  try {
    checkScriptName(name);
  } catch (e) {
    throw new CliError(
      EXIT.USAGE,
      `${options.name === undefined ? `${file}: no --name given, and the file name` : '--name'}: ${errorMessage(e)}`,
    );
  }
  checkGroup(options.group);
  checkReplicasFlag(options.replicas);
  if (options.partitions !== undefined && (!Number.isInteger(options.partitions) || options.partitions < 1 || options.partitions > 1024)) {
    throw new CliError(EXIT.USAGE, `--partitions ${options.partitions}: a whole number from 1 to 1024`);
  }
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(EXIT.USAGE, `cannot read ${file}: ${errorMessage(e)}`);
  }
  const format = options.format ?? scriptFormatOf(file);
  const { group, partitions, nats, replicas, name: _name, format: _format, ...session } = options;
  // Built as an agent builds it: from the text alone (modules next to the file are not deployed with it).
  const script = { name, version: 0, format, source, deployedAt: 0, ...(partitions !== undefined ? { partitions } : {}) };
  const factory = unitFactory({ group, session: { ...session, logger: session.logger ?? silent } });
  try {
    const prepared = await factory.prepare(
      { id: name, script, ...(partitions !== undefined ? { partition: { index: 0, count: partitions } } : {}) },
      { epoch: 1 },
    );
    await prepared.discard();
  } catch (e) {
    throw new CliError(EXIT.USAGE, `${file} does not build; not deployed: ${errorMessage(e).replace(/^script '[^']*' version 0: /, '')}`);
  }
  const nc = await connectNats(nats, 'deploy');
  try {
    const stored = await deploy(
      nc,
      group,
      { name, format, source, ...(partitions !== undefined ? { partitions } : {}), deployedBy: `${safeUser()}@${hostname()}` },
      replicas !== undefined ? { replicas } : {},
    );
    io.stdout.write(
      `deployed ${stored.name} version ${stored.version} to group ${group}${partitions !== undefined ? ` (${partitions} partitions)` : ''}\n`,
    );
    return EXIT.OK;
  } catch (e) {
    throw new CliError(EXIT.RUNTIME, `deploy ${name}: ${redactUrlSecrets(nats ?? defaultNatsUrl(), errorMessage(e))}`);
  } finally {
    await nc.close();
  }
}

/**
 * `tributary undeploy <name> --group <g>`: removes the script; the agents running it drain it.
 * Exit 2 when no such script is deployed.
 *
 * @example
 * ```ts
 * process.exitCode = await undeployCommand('liability', { group: 'bets' }, process);
 * ```
 */
export async function undeployCommand(name: string, options: { group: string; nats?: string }, io: CliIO): Promise<number> {
  try {
    checkScriptName(name);
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  checkGroup(options.group);
  const nc = await connectNats(options.nats, 'undeploy');
  try {
    if (!(await undeploy(nc, options.group, name))) {
      throw new CliError(EXIT.USAGE, `no script '${name}' is deployed to group ${options.group}`);
    }
    io.stdout.write(`undeployed ${name} from group ${options.group}\n`);
    return EXIT.OK;
  } finally {
    await nc.close();
  }
}

/**
 * Checks `--group`: letters, digits, `_` and `-` (it names NATS buckets).
 *
 * @example
 * ```ts
 * checkGroup('bets'); // ok
 * ```
 */
export function checkGroup(group: string | undefined): asserts group is string {
  if (typeof group !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(group)) {
    throw new CliError(EXIT.USAGE, `--group ${String(group)}: letters, digits, _ and - only (it names the group's NATS buckets)`);
  }
}

/**
 * Checks `--replicas` (absent is fine): a whole number from 1 to 5, else a usage error (exit 2)
 * naming the flag and the range.
 *
 * @example
 * ```ts
 * checkReplicasFlag(3); // ok
 * checkReplicasFlag(6); // throws CliError: --replicas must be a whole number from 1 to 5 (…), got 6
 * ```
 */
export function checkReplicasFlag(replicas: number | undefined): void {
  if (replicas === undefined) return;
  try {
    checkReplicas(replicas, '--replicas');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
}

const silent = { warn: () => undefined, error: () => undefined };

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
