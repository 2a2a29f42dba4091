/**
 * Helpers of the fault specs that run the CLI as child processes (issue 17): member processes
 * whose stdout lines are recorded with their arrival time, a paced publisher, reads of the
 * group's KV bucket (who holds which lease), the keyed sums the group specs check, the hot
 * reload under load, and a process run until killed or done.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type KV, type NatsConnection } from 'nats';
import { partitionOf } from '../../lib/cluster/partition';
import { groupBucket, type MemberInfo } from '../../lib/cluster/types';
import { openStateStore } from '../../lib/state/open';
import { reportFault } from './counts';
import { until } from './nats-cluster';

/** The CLI the fault specs run: bin/tributary.js, which loads the built bundle. */
export const BIN = path.join(__dirname, '..', '..', 'bin', 'tributary.js');

/** True once `npm run build` has made the bundle the CLI runs. */
export const BUILT = existsSync(path.join(__dirname, '..', '..', 'dist', 'cli.js'));

/**
 * The built CLI's `tributary <command> --help` output; '' when the CLI is not built.
 *
 * @example
 * ```ts
 * const watchSupported = /--watch/.test(cliHelp('run'));
 * ```
 */
export function cliHelp(command: string): string {
  if (!BUILT) return '';
  return spawnSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8' }).stdout ?? '';
}

/**
 * True when the built CLI's `run` takes `--group` and `--partitions` (and the `more` flags given).
 *
 * @example
 * ```ts
 * const suite = process.env.TRIBUTARY_NATS_URL !== undefined && groupRunSupported('--replicas') ? describe : describe.skip;
 * ```
 */
export function groupRunSupported(...more: string[]): boolean {
  const help = cliHelp('run');
  return ['--partitions', '--lease-timeout', ...more].every((flag) => help.includes(flag));
}

/** One output line of a member: the event number, the time it arrived here, which member printed it. */
export interface OutputLine {
  i: number;
  at: number;
  member: number;
  payload: Record<string, unknown>;
}

/**
 * A child process whose stdout is JSON lines (each with a number `i`), recorded into a shared
 * list as they arrive; stderr is kept for the failure message.
 *
 * @example
 * ```ts
 * const lines: OutputLine[] = [];
 * const m = new LineProcess(0, process.execPath, ['bin/tributary.js', 'run', 'net.lua'], lines);
 * await m.terminate();
 * ```
 */
export class LineProcess {
  readonly child: ChildProcess;
  stderr = '';
  private buffer = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;

  constructor(
    readonly index: number,
    command: string,
    argv: string[],
    lines: OutputLine[],
    env: Record<string, string> = {},
  ) {
    this.child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.child.stdout!.on('data', (d: Buffer) => {
      const at = Date.now();
      this.buffer += d.toString('utf8');
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop()!;
      for (const line of parts) {
        if (line.trim() === '') continue;
        const payload = JSON.parse(line) as Record<string, unknown>;
        lines.push({ i: Number(payload.i), at, member: index, payload });
      }
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (a graceful stop), then SIGKILL after `ms`; resolves with how it ended. */
  async terminate(ms = 60_000): Promise<{ code: number | null; signal: string | null }> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

/**
 * Publishes `count` messages at about `perSecond` (in 20 ms slices of at most 500), `message(i)`
 * giving each one's subject and payload (i = 1..count), each with the message id `m<i>` and
 * published again (up to 5 times) when its ack times out; resolves when all were acked.
 * `onProgress(published)` runs after each slice.
 *
 * @example
 * ```ts
 * await publishPaced(nc, 10_000, 5000, (i) => ({ subject: 'in', data: { i } }));
 * ```
 */
export async function publishPaced(
  nc: NatsConnection,
  count: number,
  perSecond: number,
  message: (i: number) => { subject: string; data: unknown },
  onProgress: (published: number) => void = () => undefined,
): Promise<void> {
  const js = nc.jetstream();
  const start = Date.now();
  let next = 1;
  while (next <= count) {
    // As many as the rate allows by now (catching up after a slow slice).
    const due = Math.min(count, next + 499, Math.floor(((Date.now() - start) / 1000) * perSecond) + 1);
    const batch: Promise<unknown>[] = [];
    for (; next <= due; next++) {
      const m = message(next);
      const id = `m${next}`;
      // A busy server may not ack in time: publish again (the message id deduplicates).
      const publish = async (attempt: number): Promise<unknown> => {
        try {
          return await js.publish(m.subject, JSON.stringify(m.data), { msgID: id, timeout: 10_000 });
        } catch (e) {
          if (attempt >= 5) throw e;
          return publish(attempt + 1);
        }
      };
      batch.push(publish(1));
    }
    await Promise.all(batch);
    onProgress(next - 1);
    if (next <= count) await new Promise((r) => setTimeout(r, 20));
  }
}

/** Who holds what in a group, read from its KV bucket. */
export interface GroupView {
  /** Lease owner by unit id. */
  leases: Map<string, string>;
  /** Member heartbeats by member id. */
  members: Map<string, MemberInfo>;
}

/**
 * Binds to the group's coordination bucket (it must exist: a member created it).
 *
 * @example
 * ```ts
 * const kv = await groupKv(nc, 'bets');
 * ```
 */
export async function groupKv(nc: NatsConnection, group: string): Promise<KV> {
  return nc.jetstream().views.kv(groupBucket(group), { bindOnly: true });
}

/**
 * Reads the leases (`lease.<unit>` = `{ owner }`) and heartbeats (`members.<id>`) of a group.
 * The keys come from the bucket stream's subject counts (asked of the stream leader), not from
 * `kv.keys()`: that makes an ephemeral consumer, which nats-server 2.9 may place on a replica
 * that is down, and the request times out.
 *
 * @example
 * ```ts
 * const { leases, members } = await readGroup(nc, 'bets');
 * ```
 */
export async function readGroup(nc: NatsConnection, group: string): Promise<GroupView> {
  const bucket = groupBucket(group);
  const info = await (await nc.jetstreamManager()).streams.info(`KV_${bucket}`, { subjects_filter: `$KV.${bucket}.>` });
  const kv = await groupKv(nc, group);
  const leases = new Map<string, string>();
  const members = new Map<string, MemberInfo>();
  for (const subject of Object.keys(info.state.subjects ?? {})) {
    const k = subject.slice(`$KV.${bucket}.`.length);
    const e = await kv.get(k);
    if (!e || e.operation !== 'PUT' || e.value.length === 0) continue;
    if (k.startsWith('lease.')) leases.set(k.slice('lease.'.length), (e.json() as { owner: string }).owner);
    else if (k.startsWith('members.')) members.set(k.slice('members.'.length), e.json());
  }
  return { leases, members };
}

/** How the events of a hot-reload run came out, by the version tag `v` of each output line. */
export interface ReloadTally {
  /** Distinct events out. */
  received: number;
  /** Output lines beyond the first of each event. */
  duplicates: number;
  /** Per switch k (version k → k+1): extra outputs of events printed by more than one version, counted at the newest. */
  perSwitch: number[];
  /** Extra outputs of events printed more than once by one version only. */
  sameVersion: number;
  /** The versions seen, sorted. */
  versions: string[];
}

/**
 * Tallies a hot-reload run's output lines (each `{ i, v }`) against the ordered `versions`.
 *
 * @example
 * ```ts
 * const t = reloadTally(lines, ['v1', 'v2']);
 * expect(t.perSwitch[0]).toBeLessThanOrEqual(cap);
 * ```
 */
export function reloadTally(lines: readonly OutputLine[], versions: readonly string[]): ReloadTally {
  const versionsOf = new Map<number, string[]>();
  for (const l of lines) versionsOf.set(l.i, [...(versionsOf.get(l.i) ?? []), String(l.payload.v)]);
  const perSwitch = versions.slice(1).map(() => 0);
  let sameVersion = 0;
  for (const vs of versionsOf.values()) {
    if (vs.length < 2) continue;
    if (new Set(vs).size === 1) sameVersion += vs.length - 1;
    else perSwitch[Math.max(...vs.map((v) => versions.indexOf(v))) - 1] += vs.length - 1;
  }
  return {
    received: versionsOf.size,
    duplicates: lines.length - versionsOf.size,
    perSwitch,
    sameVersion,
    versions: [...new Set(lines.map((l) => String(l.payload.v)))].sort(),
  };
}

/**
 * The Lua network of the hot-reload specs: a JetStream durable `hr` (in-flight cap `cap`) whose
 * events `{ i }` come out on stdout tagged with the script's `version` as `{ i, v }`.
 */
function reloadScript(natsUrl: string, subject: string, stream: string, version: string, cap: number): string {
  return [
    'local tb = require("tributary")',
    `tb.create_nats_source("in", { url = ${JSON.stringify(natsUrl)}, subject = ${JSON.stringify(subject)}, stream = ${JSON.stringify(stream)}, durable = "hr", max_in_flight = ${cap}, ack_wait = "5s", nack_delay = "0s" })`,
    `tb.create_map("tag", function(e) return { i = e.i, v = ${JSON.stringify(version)} } end)`,
    'tb.create_stdout_sink("out")',
    'tb.link("in", "tag")',
    'tb.link("tag", "out")',
    '',
  ].join('\n');
}

/** What a hot-reload case's process is given: the run's tag, its script file, and where its output lines go. */
export interface ReloadContext {
  /** Unique to the run (`<pid>_<time>`): name the group and the like after it. */
  tag: string;
  /** The script file. */
  file: string;
  /** Writes the script of `version` into `file`. */
  write(version: string): void;
  lines: OutputLine[];
}

/** A hot-reload fault case: the process that runs the script and how it is switched to a new version. */
export interface ReloadCase {
  /** Report name, e.g. `hot-reload-watch`. */
  name: string;
  /** Stream `<PREFIX>_<tag>` and subject `<prefix>.<tag>`. */
  prefix: string;
  /** Prefix of the scratch directory, and the script's file name in it. */
  tmpPrefix: string;
  scriptName: string;
  /** Events to publish (`{ i }`, i = 1..count), at about `rate` a second. */
  count: number;
  rate: number;
  /** The durable's in-flight cap: the bound on events processed by two versions per switch. */
  cap: number;
  /** The versions in order. */
  versions: readonly string[];
  /** The process as the messages name it (`tributary run --watch`), and what the switches were. */
  processName: string;
  how: string;
  /** Starts the process running `versions[0]`. */
  start(c: ReloadContext): LineProcess;
  /** Makes the process run `version` (rewrites the file it watches, deploys it, …). */
  switchTo(c: ReloadContext, version: string): void;
  /** Streams to delete afterwards besides the input stream. */
  streams?(tag: string): string[];
}

/**
 * The hot-reload fault test (issue 17), run against the shared NATS (TRIBUTARY_NATS_URL) on a
 * fresh stream: events are published at the case's rate while the script is switched to each
 * next version after about 2 s of publishing (once the previous version printed; the new one
 * must print within 30 s). Every event must come out (0 lost), the process must stop cleanly
 * on SIGTERM, every version must have run, and the events processed by two versions must stay
 * within the in-flight cap per switch.
 *
 * @example
 * ```ts
 * it('loses nothing', () => hotReloadUnderLoad({ name: 'hot-reload-watch', prefix: 'hr', ...watchCase }), 170_000);
 * ```
 */
export async function hotReloadUnderLoad(rc: ReloadCase): Promise<void> {
  const { versions, count: N, rate: RATE, cap: CAP } = rc;
  const tag = `${process.pid}_${Date.now().toString(36)}`;
  const stream = `${rc.prefix.toUpperCase()}_${tag}`;
  const subject = `${rc.prefix}.${tag}`;
  const natsUrl = process.env.TRIBUTARY_NATS_URL!;
  const dir = mkdtempSync(path.join(os.tmpdir(), rc.tmpPrefix));
  const file = path.join(dir, rc.scriptName);
  const nc = await connect({ servers: natsUrl });
  const jsm = await nc.jetstreamManager();
  const lines: OutputLine[] = [];
  const c: ReloadContext = {
    tag,
    file,
    write: (version) => writeFileSync(file, reloadScript(natsUrl, subject, stream, version, CAP)),
    lines,
  };
  let proc: LineProcess | undefined;
  try {
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const run = (proc = rc.start(c));
    let published = 0;
    const publishing = publishPaced(
      nc,
      N,
      RATE,
      (i) => ({ subject, data: { i } }),
      (n) => (published = n),
    );
    const alive = () => {
      if (!run.running) throw new Error(`${rc.processName} exited early:\n${run.stderr}`);
    };
    const switchedAt: number[] = [];
    for (let k = 1; k < versions.length; k++) {
      // Let each version run under load for a while (about 2 s of publishing) before the next switch.
      const target = Math.min(N, published + 2 * RATE);
      await until(`the publisher reached ${target}`, 60_000, async () => {
        alive();
        if (published < target) throw new Error(`${published}`);
      });
      await until(`version ${versions[k - 1]} printed`, 30_000, async () => {
        alive();
        if (!lines.some((l) => l.payload.v === versions[k - 1])) throw new Error('not yet');
      });
      switchedAt.push(published);
      rc.switchTo(c, versions[k]);
      await until(`version ${versions[k]} took over`, 30_000, async () => {
        alive();
        if (!lines.some((l) => l.payload.v === versions[k])) throw new Error('not yet');
      });
    }
    await publishing;
    await until('every event came out', 120_000, async () => {
      alive();
      const info = await jsm.consumers.info(stream, 'hr');
      const unique = new Set(lines.map((l) => l.i)).size;
      if (unique < N || info.num_pending + info.num_ack_pending > 0) {
        throw new Error(`${unique} of ${N} out; ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
      }
    });
    expect(await run.terminate()).toEqual({ code: 0, signal: null });

    const t = reloadTally(lines, versions);
    const lost = N - t.received;
    reportFault(rc.name, {
      sent: N,
      received: t.received,
      lost,
      duplicates: t.duplicates,
      cap: CAP,
      fault: `${rc.how} at ${switchedAt.join(', ')} published (~${RATE}/s); duplicates across versions per switch: ${t.perSwitch.join(', ')}; within one version: ${t.sameVersion}`,
    });
    expect(lost).toBe(0);
    expect(t.versions).toEqual(versions);
    for (const d of t.perSwitch) expect(d).toBeLessThanOrEqual(CAP);
    expect(t.duplicates).toBeLessThanOrEqual(CAP * t.perSwitch.length);
  } finally {
    await proc?.kill();
    for (const s of [stream, ...(rc.streams?.(tag) ?? [])]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `describe` for a group fault spec when the `variables` are set, the `binaries` installed and
 * the built CLI's `run` takes `--group`; else `describe.skip` with a line saying what turns it on.
 *
 * @example
 * ```ts
 * const suite = groupFaultSuite('group-kill', ['TRIBUTARY_NATS_URL', 'TRIBUTARY_REDIS_URL']);
 * ```
 */
export function groupFaultSuite(name: string, variables: readonly string[], binaries: readonly string[] = []): jest.Describe {
  const missing = variables.filter((v) => process.env[v] === undefined);
  const enabled = missing.length === 0 && binaries.every((b) => existsSync(b)) && groupRunSupported();
  if (enabled) return describe;
  const install = binaries.map((b) => `, install ${b}`).join('');
  console.log(`${name}: set ${missing.join(' and ') || 'nothing more'}${install} and run \`npm run build\` to run it`);
  return describe.skip;
}

/**
 * A Redis state-store URL of the shared server (`redis`, TRIBUTARY_REDIS_URL) whose keys all
 * start with `prefix`.
 *
 * @example
 * ```ts
 * const storeUrl = redisWithPrefix(process.env.TRIBUTARY_REDIS_URL!, `gk:${tag}:`);
 * ```
 */
export function redisWithPrefix(redis: string, prefix: string): string {
  return `${redis}${redis.includes('?') ? '&' : '?'}prefix=${prefix}`;
}

/**
 * Deletes every key of the state store at `url` (a prefixed Redis store of the test's own);
 * nothing when it cannot be opened.
 *
 * @example
 * ```ts
 * await clearStore(storeUrl);
 * ```
 */
export async function clearStore(url: string): Promise<void> {
  const store = await openStateStore(url).catch(() => undefined);
  if (!store) return;
  for await (const [k] of store.list('')) await store.delete(k);
  await store.close();
}

/** Per customer: how many events and the sum of their amounts. */
export type Sums = Map<string, { n: number; sum: number }>;

/** The workload and shape of a {@link SumsGroup}. */
export interface SumsGroupOptions {
  /** Report name; the scratch directory is `tb-<name>-…`. */
  name: string;
  /**
   * Short name: group `<short>_<tag>`, stream `<SHORT>_<tag>`, subjects
   * `<short>.<tag>.<partition>`, durable `<short>`, store key prefix `<short>:<tag>:`.
   */
  short: string;
  /** Event i is of customer `c<i % keys>`, with the amount `(i % amountModulus) + 1`. */
  keys: number;
  amountModulus: number;
  partitions: number;
  /** The source's in-flight cap. */
  cap: number;
  /** The members' `--lease-timeout`, in seconds. */
  leaseSeconds: number;
}

/**
 * A scale-out group of member processes (the real CLI: `tributary run sums.lua --group g
 * --partitions P --state-store <shared Redis, own key prefix> --lease-timeout …`) running a
 * keyed sum per customer (`stateful`, checkpointed, fenced per partition) over a JetStream
 * durable per partition; every event printed as `{ i, c }` and recorded in `lines`.
 *
 * @example
 * ```ts
 * const g = new SumsGroup({ name: 'group-kill', short: 'gk', keys: 500, amountModulus: 13, partitions: 16, cap: 200, leaseSeconds: 5 });
 * try {
 *   g.writeScript(natsUrl);
 *   g.startMembers(3, natsUrl);
 *   await until('all acked', 150_000, () => g.drained(nc));
 *   expect(await g.check(ids)).toMatchObject({ lost: 0, doubled: 0, misplaced: 0 });
 * } finally {
 *   await g.dispose();
 * }
 * ```
 */
export class SumsGroup {
  readonly tag = `${process.pid}_${Date.now().toString(36)}`;
  readonly group: string;
  readonly stream: string;
  /** Subjects are `<prefix>.<partition>`. */
  readonly prefix: string;
  readonly storeUrl: string;
  readonly dir: string;
  /** The script file, written by {@link writeScript}. */
  readonly script: string;
  readonly lines: OutputLine[] = [];
  readonly members: LineProcess[] = [];

  constructor(readonly o: SumsGroupOptions) {
    this.group = `${o.short}_${this.tag}`;
    this.stream = `${o.short.toUpperCase()}_${this.tag}`;
    this.prefix = `${o.short}.${this.tag}`;
    this.storeUrl = redisWithPrefix(process.env.TRIBUTARY_REDIS_URL!, `${o.short}:${this.tag}:`);
    this.dir = mkdtempSync(path.join(os.tmpdir(), `tb-${o.name}-`));
    this.script = path.join(this.dir, 'sums.lua');
  }

  readonly customerOf = (i: number): string => `c${i % this.o.keys}`;
  readonly amountOf = (i: number): number => (i % this.o.amountModulus) + 1;

  /** Event i's subject (its customer's partition) and payload `{ i, c, a }`. */
  readonly message = (i: number): { subject: string; data: unknown } => ({
    subject: `${this.prefix}.${partitionOf(this.customerOf(i), this.o.partitions)}`,
    data: { i, c: this.customerOf(i), a: this.amountOf(i) },
  });

  /** Writes the members' script, reading from the server at `natsUrl`. */
  writeScript(natsUrl: string): void {
    const { short, cap } = this.o;
    const source = [
      'local tb = require("tributary")',
      `tb.create_nats_source("in", { url = ${JSON.stringify(natsUrl)}, subject = ${JSON.stringify(`${this.prefix}.*`)}, stream = ${JSON.stringify(this.stream)}, durable = ${JSON.stringify(short)}, max_in_flight = ${cap}, ack_wait = "5s", nack_delay = "0s" })`,
      'tb.create_stateful("agg", "c", function(s, p)',
      '  s = s or { n = 0, sum = 0 }',
      '  s.n = s.n + 1',
      '  s.sum = s.sum + p.a',
      '  return { state = s, emit = { i = p.i, c = p.c } }',
      'end)',
      'tb.create_stdout_sink("out")',
      'tb.link("in", "agg")',
      'tb.link("agg", "out")',
      '',
    ].join('\n');
    writeFileSync(this.script, source);
  }

  /** Starts `count` members on `natsUrl` (checkpoints every 500 ms), with `extra` arguments. */
  startMembers(count: number, natsUrl: string, extra: string[] = []): void {
    const { partitions, leaseSeconds } = this.o;
    for (let m = 0; m < count; m++) {
      const argv = [BIN, 'run', this.script, '--group', this.group, '--partitions', String(partitions), '--nats', natsUrl];
      argv.push('--state-store', this.storeUrl, '--checkpoint-interval', '500ms', '--lease-timeout', `${leaseSeconds}s`, ...extra);
      this.members.push(new LineProcess(m, process.execPath, argv, this.lines));
    }
  }

  /** Throws naming the first of `which` that is no longer running, with its stderr. */
  alive(which: readonly LineProcess[] = this.members): void {
    const dead = which.filter((m) => !m.running);
    if (dead.length) throw new Error(`member ${dead[0].index} exited early:\n${dead[0].stderr}`);
  }

  /** Throws unless at least `n` distinct events came out. */
  processedAtLeast(n: number): void {
    const unique = new Set(this.lines.map((l) => l.i)).size;
    if (unique < n) throw new Error(`${unique} so far`);
  }

  /** Throws unless every partition's durable has nothing pending or unacked. */
  async drained(nc: NatsConnection): Promise<void> {
    const jsm = await nc.jetstreamManager();
    const left: string[] = [];
    for (let p = 0; p < this.o.partitions; p++) {
      const info = await jsm.consumers.info(this.stream, `${this.o.short}_p${p}`);
      if (info.num_pending + info.num_ack_pending > 0) left.push(`p${p}: ${info.num_pending} pending, ${info.num_ack_pending} unacked`);
    }
    if (left.length) throw new Error(left.join('; '));
  }

  /**
   * The per-key state the members left in the store (`<group>/sums/p<p>/agg/k/<customer>`)
   * against the truth for the events `ids` (what a single process computes): `lost` and
   * `doubled` as {@link compareSums} counts them; `misplaced`, keys under a partition other
   * than their own.
   */
  async check(ids: Iterable<number>): Promise<{ got: Sums; want: Sums; misplaced: number; lost: number; doubled: number }> {
    const want: Sums = new Map();
    for (const i of ids) {
      const s = want.get(this.customerOf(i)) ?? { n: 0, sum: 0 };
      s.n++;
      s.sum += this.amountOf(i);
      want.set(this.customerOf(i), s);
    }
    const store = await openStateStore(this.storeUrl);
    const got: Sums = new Map();
    const keyRe = new RegExp(`^${this.group}/sums/p(\\d+)/agg/k/(.+)$`);
    let misplaced = 0;
    for await (const [k, v] of store.list<{ s: { n: number; sum: number } }>(`${this.group}/sums/`)) {
      const m = keyRe.exec(k);
      if (!m) continue;
      if (partitionOf(m[2], this.o.partitions) !== Number(m[1])) misplaced++;
      got.set(m[2], v.value.s);
    }
    await store.close();
    return { got, want, misplaced, ...compareSums(want, got) };
  }

  /** Kills the members (SIGKILL), deletes the store's keys and the scratch directory. */
  async dispose(): Promise<void> {
    await Promise.all(this.members.map((m) => m.kill()));
    await clearStore(this.storeUrl);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Events missing from the per-key state (`lost`) and counted more than once (`doubled`), by
 * each key's event count `n` against the truth `want`.
 *
 * @example
 * ```ts
 * expect(compareSums(want, got)).toEqual({ lost: 0, doubled: 0 });
 * ```
 */
export function compareSums(
  want: ReadonlyMap<string, { n: number }>,
  got: ReadonlyMap<string, { n: number }>,
): { lost: number; doubled: number } {
  let lost = 0;
  let doubled = 0;
  for (const [c, t] of want) {
    const g = got.get(c) ?? { n: 0 };
    if (g.n < t.n) lost += t.n - g.n;
    else doubled += g.n - t.n;
  }
  return { lost, doubled };
}

/** How a run of {@link runCounted} ended. */
export interface CountedExit {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/**
 * Runs `command argv` until it printed `killAfter` lines (then SIGKILL) or, without
 * `killAfter`, until every event 1..`total` was printed at least once (then SIGTERM, once: a
 * clean drain); each line's event number (`parse`, default the JSON line's `i`) goes into
 * `seen`. SIGKILLed after `limitMs` at the latest.
 *
 * @example
 * ```ts
 * const first = await runCounted(process.execPath, [BIN, 'run', script], { seen, total: 400, killAfter: 150, limitMs: 60_000 });
 * expect(first.signal).toBe('SIGKILL');
 * ```
 */
export function runCounted(
  command: string,
  argv: string[],
  o: { seen: number[]; total: number; killAfter?: number; limitMs: number; parse?: (line: string) => number; cwd?: string },
): Promise<CountedExit> {
  const parse = o.parse ?? ((line: string) => (JSON.parse(line) as { i: number }).i);
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: o.cwd });
    let buffer = '';
    let stderr = '';
    let printed = 0;
    const unique = new Set(o.seen);
    let stopping = false;
    const limit = setTimeout(() => child.kill('SIGKILL'), o.limitMs);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString('utf8');
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        const i = parse(line);
        o.seen.push(i);
        unique.add(i);
        printed++;
        if (o.killAfter !== undefined && printed === o.killAfter) child.kill('SIGKILL');
      }
      if (o.killAfter === undefined && !stopping && unique.size === o.total) {
        stopping = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stderr });
    });
  });
}
