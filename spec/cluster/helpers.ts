/**
 * Helpers of the cluster specs that run the commands in process against the shared NATS
 * server: output collectors, bounded polls, a NATS connection and scratch directory per
 * `describe`, and the hot reload under a steady stream (a file sink read back as rows).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';

/** Where a command's output goes in these specs, and what it wrote. */
export interface Collector {
  write(s: string): boolean;
  text(): string;
}

/**
 * Collects what a command writes to its stdout or stderr.
 *
 * @example
 * ```ts
 * const stderr = collector();
 * await runCommand([file], opts, { stdout: collector(), stderr });
 * expect(stderr.text()).toContain('version 3 running');
 * ```
 */
export function collector(): Collector {
  let text = '';
  return { write: (s: string) => ((text += s), true), text: () => text };
}

/** Waits until `ok` holds, at most `ms`; rejects with `timed out waiting for <what>`. */
export type Until = (what: string, ok: () => boolean | Promise<boolean>, ms?: number) => Promise<void>;

/**
 * A bounded poll checking `ok` every `everyMs` until it holds, at most `ms` (by default
 * `defaultMs`): no fixed sleep.
 *
 * @example
 * ```ts
 * const until = poller(30_000, 50);
 * await until('version two running', () => tags().includes('two'));
 * ```
 */
export function poller(defaultMs: number, everyMs: number): Until {
  return async (what, ok, ms = defaultMs) => {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  };
}

/** A NATS connection and a scratch directory, set once the `describe`'s `beforeAll` ran. */
export interface NatsScratch {
  nc: NatsConnection;
  dir: string;
}

/**
 * For the enclosing `describe`: connects to `url` and makes a scratch directory (`prefix`…)
 * before its tests, and adds `stream` when given; after them deletes the streams `cleanup()`
 * names (missing ones are fine), closes the connection and removes the directory.
 *
 * @example
 * ```ts
 * const scratch = natsScratch(URL, 'tributary-deploy-', { cleanup: () => [`KV_${groupBucket(group)}`] });
 * it('…', async () => {
 *   const { nc, dir } = scratch;
 * });
 * ```
 */
export function natsScratch(
  url: string | undefined,
  prefix: string,
  o: { stream?: { name: string; subjects: string[] }; cleanup: () => string[] },
): NatsScratch {
  const scratch = {} as NatsScratch;
  beforeAll(async () => {
    scratch.nc = await connect({ servers: url });
    if (o.stream) await (await scratch.nc.jetstreamManager()).streams.add(o.stream);
    scratch.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterAll(async () => {
    const jsm = await scratch.nc.jetstreamManager();
    for (const s of o.cleanup()) await jsm.streams.delete(s).catch(() => undefined);
    await scratch.nc.close();
    rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}

/** One output row of {@link reloadSource}: the event number and the script version that processed it. */
export interface ReloadRow {
  n: number;
  v: number;
}

/**
 * A Lua network for the reload specs: the JetStream durable `durable` on `<subject>.>` (in-flight
 * cap `maxInFlight`) into a file sink `out`, each event `{ n }` written as `{ n, v }`.
 *
 * @example
 * ```ts
 * writeFileSync(file, reloadSource({ subject, stream, durable: 'watch', url: URL!, maxInFlight: 64, out, v: 1 }));
 * ```
 */
export function reloadSource(o: {
  subject: string;
  stream: string;
  durable: string;
  url: string;
  maxInFlight: number;
  out: string;
  v: number;
}): string {
  // ackWait 2s: now and then messages the old version's pull had fetched but not yet handed
  // over when it drained come back only after ackWait (nats_source's close of its pull drops
  // them rather than nak them), so with the default 30s the new version waits that long.
  return (
    `local tb = require('tributary')\n` +
    `tb.create_nats_source('in', { subject = '${o.subject}.>', stream = '${o.stream}', durable = '${o.durable}', url = '${o.url}', maxInFlight = ${o.maxInFlight}, ackWait = '2s' })\n` +
    `tb.create_map('tag', function(p) return { n = p.n, v = ${o.v} } end)\n` +
    `tb.create_file_sink('out', '${o.out}')\ntb.link('in', 'tag')\ntb.link('tag', 'out')\n`
  );
}

/**
 * The rows of the NDJSON file `out` so far (none before it exists), skipping a line being written.
 *
 * @example
 * ```ts
 * await until('version 2 processing', () => reloadRows(out).some((r) => r.v === 2));
 * ```
 */
export function reloadRows(out: string): ReloadRow[] {
  return (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []).flatMap((l) => {
    try {
      return [JSON.parse(l) as ReloadRow];
    } catch {
      return []; // a line being written
    }
  });
}

/**
 * Publishes `{ n }` (n = 0..total-1) to `<subject>.x` at about 5k events/s: 25 every 5 ms.
 * `published()` is how many were handed to the publisher so far; `done` resolves once all
 * were acked.
 *
 * @example
 * ```ts
 * const publishing = publishSteady(nc, subject, 3000);
 * await until('more published', () => publishing.published() > 1500);
 * await publishing.done;
 * ```
 */
export function publishSteady(nc: NatsConnection, subject: string, total: number): { published: () => number; done: Promise<void> } {
  const js = nc.jetstream();
  let published = 0;
  const done = (async () => {
    while (published < total) {
      await Promise.all(Array.from({ length: 25 }, () => js.publish(`${subject}.x`, JSON.stringify({ n: published++ }))));
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { published: () => published, done };
}
