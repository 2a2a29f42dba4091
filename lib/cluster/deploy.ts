// Deployed scripts in NATS KV (issue 17, docs/deploy.md): `tributary deploy` writes them, the
// agents' catalogs (lib/cluster/catalog.ts) watch them.
import type { KV, NatsConnection } from 'nats';
import { TributaryError, errorMessage } from '../errors';
import { checkReplicas, openGroupKv } from './buckets';
import { scriptsBucket, type DeployedScript, type ScriptFormat } from './types';

/** What `deploy` stores; the version and the time are added. */
export interface DeployInput {
  readonly name: string;
  readonly format: ScriptFormat;
  readonly source: string;
  /** Run as this many partitions across the group (1 … 1024); absent: one instance runs it. */
  readonly partitions?: number;
  /** Who deployed it (user@host), shown by `tributary ps`. */
  readonly deployedBy?: string;
}

/** Script names: letters, digits, `_` and `-` (they become KV keys and lease keys `<name>.p<i>`). */
const NAME = /^[A-Za-z0-9_-]{1,100}$/;
const FORMATS: readonly ScriptFormat[] = ['lua', 'yaml', 'json', 'agglo'];
/** Deploys that lost the compare-and-set race retry this often before giving up. */
const ATTEMPTS = 50;

/**
 * Checks a script name: letters, digits, `_` and `-`, at most 100 characters.
 *
 * @example
 * ```ts
 * checkScriptName('liability'); // ok
 * checkScriptName('a.b');       // throws: the name may hold letters, digits, _ and - only
 * ```
 */
export function checkScriptName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TributaryError(
      'BAD_OPTION',
      `script name '${String(name)}': letters, digits, _ and - only (at most 100), since it names the script's KV key and its partitions`,
    );
  }
}

/** Options of {@link scriptsKv} and {@link deploy}. */
export interface ScriptsBucketOptions {
  /**
   * Copies of the scripts bucket (1 to 5; more than 1 needs a NATS cluster of at least that
   * many servers). A missing bucket is created with this many, default 1; an existing one must
   * have this many; when not given, an existing bucket is used as it is.
   */
  readonly replicas?: number;
}

/**
 * Opens (creating it when missing, with `replicas` copies) the KV bucket of a group's deployed
 * scripts; it keeps a few versions per script so a script deployed again after `undeploy` goes
 * on counting. Rejects when `replicas` is given and the existing bucket has another count.
 *
 * @example
 * ```ts
 * const kv = await scriptsKv(nc, 'bets', { replicas: 3 });
 * ```
 */
export async function scriptsKv(nats: NatsConnection, group: string, options: ScriptsBucketOptions = {}): Promise<KV> {
  if (options.replicas !== undefined) checkReplicas(options.replicas, "option 'replicas'");
  try {
    return (await openGroupKv(nats, scriptsBucket(group), { history: 5 }, options.replicas)).kv;
  } catch (e) {
    throw new TributaryError('STATE', `group '${group}': cannot open the KV bucket ${scriptsBucket(group)}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
}

/**
 * Stores a script for the group's agents to run, as version previous + 1 (1 for a new name).
 * The write is a compare-and-set on the key's KV revision: two deploys racing on one name get
 * two different versions, never the same one. The scripts bucket is opened as
 * {@link scriptsKv} opens it (`options.replicas`).
 *
 * @example
 * ```ts
 * const s = await deploy(nc, 'bets', { name: 'liability', format: 'lua', source: fs.readFileSync('net.lua', 'utf8') }, { replicas: 3 });
 * s.version; // 1, then 2 …
 * ```
 */
export async function deploy(
  nats: NatsConnection,
  group: string,
  input: DeployInput,
  options: ScriptsBucketOptions = {},
): Promise<DeployedScript> {
  checkScriptName(input.name);
  if (!FORMATS.includes(input.format)) {
    throw new TributaryError('BAD_OPTION', `script '${input.name}': format '${String(input.format)}' is not one of ${FORMATS.join(', ')}`);
  }
  if (typeof input.source !== 'string') throw new TributaryError('BAD_OPTION', `script '${input.name}': source must be text`);
  if (input.partitions !== undefined && (!Number.isInteger(input.partitions) || input.partitions < 1 || input.partitions > 1024)) {
    throw new TributaryError('BAD_OPTION', `script '${input.name}': partitions must be an integer from 1 to 1024, got ${input.partitions}`);
  }
  const kv = await scriptsKv(nats, group, options);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await kv.get(input.name);
    const previous = current ? await lastVersion(kv, input.name, current) : 0;
    const script: DeployedScript = {
      name: input.name,
      version: previous + 1,
      format: input.format,
      source: input.source,
      ...(input.partitions !== undefined ? { partitions: input.partitions } : {}),
      deployedAt: Date.now(),
      ...(input.deployedBy !== undefined ? { deployedBy: input.deployedBy } : {}),
    };
    const data = JSON.stringify(script);
    try {
      if (current) await kv.update(input.name, data, current.revision);
      else await kv.create(input.name, data);
      return script;
    } catch (e) {
      if (!isConflict(e)) throw new TributaryError('STATE', `deploy '${input.name}': ${errorMessage(e)}`, { cause: e });
    }
  }
  throw new TributaryError('STATE', `deploy '${input.name}': ${ATTEMPTS} concurrent deploys won the race; try again`);
}

/**
 * Removes a script: the agents running it drain it. Resolves false when no such script was deployed.
 *
 * @example
 * ```ts
 * await undeploy(nc, 'bets', 'liability'); // true
 * ```
 */
export async function undeploy(nats: NatsConnection, group: string, name: string): Promise<boolean> {
  checkScriptName(name);
  // Binding, not creating: a group nothing was deployed to has nothing to remove, and a bucket
  // made here would have one replica whatever the group's members later ask for.
  let kv: KV;
  try {
    kv = await nats.jetstream().views.kv(scriptsBucket(group), { bindOnly: true });
  } catch (e) {
    if (isMissingBucket(e)) return false;
    throw new TributaryError('STATE', `group '${group}': cannot read the KV bucket ${scriptsBucket(group)}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const current = await kv.get(name);
  if (!current || current.operation !== 'PUT') return false;
  await kv.delete(name, { previousSeq: current.revision });
  return true;
}

/**
 * The scripts deployed to a group, by name.
 *
 * @example
 * ```ts
 * for (const s of await listScripts(nc, 'bets')) console.log(s.name, s.version);
 * ```
 */
export async function listScripts(nats: NatsConnection, group: string): Promise<DeployedScript[]> {
  // Reading does not create the bucket: a group nothing was deployed to lists nothing.
  let kv: KV;
  const names: string[] = [];
  try {
    kv = await nats.jetstream().views.kv(scriptsBucket(group), { bindOnly: true });
    for await (const k of await kv.keys()) names.push(k);
  } catch (e) {
    if (isMissingBucket(e)) return [];
    throw new TributaryError('STATE', `group '${group}': cannot read the KV bucket ${scriptsBucket(group)}: ${errorMessage(e)}`, {
      cause: e,
    });
  }
  const out: DeployedScript[] = [];
  for (const name of names.sort()) {
    const e = await kv.get(name);
    const script = e && e.operation === 'PUT' ? parseScript(e.string(), name) : undefined;
    if (script) out.push(script);
  }
  return out;
}

/**
 * A stored script's value, checked; undefined (with the reason in `problems`) when it is not
 * one (written by something else).
 *
 * @example
 * ```ts
 * parseScript('{"name":"a","version":1,"format":"lua","source":"","deployedAt":0}', 'a');
 * ```
 */
export function parseScript(text: string, key: string, problems?: string[]): DeployedScript | undefined {
  let v: Partial<DeployedScript>;
  try {
    v = JSON.parse(text) as Partial<DeployedScript>;
  } catch (e) {
    problems?.push(`key '${key}': not JSON: ${errorMessage(e)}`);
    return undefined;
  }
  const ok =
    typeof v === 'object' &&
    v !== null &&
    v.name === key &&
    Number.isInteger(v.version) &&
    typeof v.source === 'string' &&
    FORMATS.includes(v.format as ScriptFormat) &&
    (v.partitions === undefined || (Number.isInteger(v.partitions) && v.partitions > 0));
  if (!ok) {
    problems?.push(`key '${key}': not a deployed script (name, version, format, source)`);
    return undefined;
  }
  return v as DeployedScript;
}

/** The version last deployed under `name`: the current value's, or after an undeploy the last one kept in history. */
async function lastVersion(kv: KV, name: string, current: { operation: string; string(): string }): Promise<number> {
  if (current.operation === 'PUT') return parseScript(current.string(), name)?.version ?? 0;
  let last = 0;
  for await (const e of await kv.history({ key: name })) {
    if (e.operation === 'PUT') last = Math.max(last, parseScript(e.string(), name)?.version ?? 0);
  }
  return last;
}

/**
 * True for the error NATS answers about a KV bucket that does not exist.
 *
 * @example
 * ```ts
 * isMissingBucket(new Error('stream not found')); // true
 * ```
 */
export function isMissingBucket(e: unknown): boolean {
  return /stream not found|bucket not found/i.test(errorMessage(e));
}

function isConflict(e: unknown): boolean {
  const err = e as { api_error?: { err_code?: number }; message?: string };
  return err?.api_error?.err_code === 10071 || /wrong last sequence/i.test(String(err?.message));
}
