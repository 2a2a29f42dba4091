import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { reportFault, tally } from './counts';

/**
 * Issue 16: `tributary serve --durable-queue` is killed with SIGKILL while 2,000 POSTs arrive
 * and its workers process the queue, then started again on the same SQLite file. Every
 * request answered 202 must be processed (written by the network's file sink) at least once:
 * 0 lost. Duplicates can only be items whose sink write happened but whose delete had not
 * committed at the kill (at most the worker count), plus requests the client sent again
 * because the kill cut their answer off (they may have been committed before it). Real
 * HTTP, a real SQLite file (WAL, synchronous=FULL), a real child process.
 */
const CHILD = path.join(__dirname, 'serve-child.ts');
const N = 2000;
const WORKERS = 16;

interface Daemon {
  child: ChildProcess;
  url: string;
  ops: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startDaemon(net: string, queue: string): Promise<Daemon> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      CHILD,
      'serve',
      net,
      '--allow-files',
      '--port',
      '0',
      '--maintenance-port',
      '0',
      '--durable-queue',
      queue,
      '--workers',
      String(WORKERS),
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.join(__dirname, '..', '..') },
  );
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon did not start:\n${stderr}`));
    }, 90_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = /serving POST (http:\/\/[^ ]+) .*maintenance (http:\/\/[^/]+)\//.exec(stderr);
      if (m) {
        clearTimeout(limit);
        resolve({ child, url: m[1], ops: m[2], exited });
      }
    });
    void exited.then((e) => {
      clearTimeout(limit);
      reject(new Error(`daemon exited (${e.code ?? e.signal}) before listening:\n${e.stderr}`));
    });
  });
}

function written(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => (JSON.parse(l) as { n: number }).n);
}

async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** POSTs events 1..N (those in `todo`) with `concurrency` at a time; records which got 202. */
async function postAll(url: string, todo: number[], concurrency: number, accepted: Set<number>, stop: () => boolean): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < todo.length && !stop()) {
      const n = todo[next++];
      try {
        const res = await fetch(url, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json' } });
        if (res.status === 202) accepted.add(n);
        await res.text();
      } catch {
        // The daemon was killed: this request got no answer.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('fault: serve --durable-queue killed with SIGKILL', () => {
  it(`replays every item not completed: ${N} POSTs, kill -9 mid-way, restart: 0 lost`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-serve-kill-'));
    const out = path.join(dir, 'processed.ndjson');
    const queue = path.join(dir, 'queue.db');
    const net = path.join(dir, 'net.yaml');
    // A delay keeps the workers slower than the requests, so the kill finds items queued and in flight.
    writeFileSync(
      net,
      `nodes:\n  - { name: in, kind: stdin_source }\n  - { name: slow, kind: delay, options: { duration: 40ms } }\n` +
        `  - { name: done, kind: file_sink, options: { path: ${JSON.stringify(out)} } }\n` +
        `edges:\n  - { from: in, to: slow }\n  - { from: slow, to: done }\n`,
    );
    const all = Array.from({ length: N }, (_, i) => i + 1);
    const accepted = new Set<number>();

    const first = await startDaemon(net, queue);
    let killed = false;
    const posting = postAll(first.url, all, 32, accepted, () => killed);
    // Kill half-way through the requests, with a backlog queued and workers busy.
    await waitFor(() => (accepted.size >= N / 2 ? true : undefined), 120_000, 'half the requests to be accepted');
    first.child.kill('SIGKILL');
    killed = true;
    const end = await first.exited;
    expect(end.signal).toBe('SIGKILL');
    await posting;
    const acceptedBeforeKill = accepted.size;
    const processedAtKill = written(out).length;

    const second = await startDaemon(net, queue);
    // Requests that got no 202 (refused or cut off by the kill) are sent again.
    const resend = all.filter((n) => !accepted.has(n));
    await postAll(second.url, resend, 32, accepted, () => false);
    expect(accepted.size).toBe(N);
    await waitFor(
      async () => {
        const st = (await (await fetch(`${second.ops}/stats`)).json()) as { queue: { pending: number; inFlight: number } };
        return st.queue.pending === 0 && st.queue.inFlight === 0 ? true : undefined;
      },
      120_000,
      'the queue to empty',
    );
    second.child.kill('SIGTERM');
    const stopped = await second.exited;
    expect(stopped.code).toBe(0);

    const seen = written(out);
    const t = tally(all, seen);
    reportFault('serve durable queue (kill -9)', {
      sent: N,
      received: t.received,
      lost: t.lost.length,
      duplicates: t.duplicates,
      cap: WORKERS,
      fault: `SIGKILL after ${acceptedBeforeKill} requests got 202 and ${processedAtKill} were processed; ${resend.length} sent again after restart`,
    });
    expect(t.lost).toEqual([]);
    expect(stopped.stderr).toMatch(/[1-9]\d* items claimed by a previous process are queued again/);
    // Replays are bounded by the workers in flight at the kill, plus the resent requests that had been committed.
    expect(t.duplicates).toBeLessThanOrEqual(WORKERS + resend.length);
  }, 300_000);
});
