/**
 * Helpers of the group fault specs (issue 17): member processes whose stdout lines are
 * recorded with their arrival time, a paced publisher, and reads of the group's KV bucket
 * (who holds which lease).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { KV, NatsConnection } from 'nats';
import { groupBucket, type MemberInfo } from '../../lib/cluster/types';

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
