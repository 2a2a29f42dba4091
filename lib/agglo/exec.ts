// Running an executable the way agglo's spawner and exec transformations do: the input as
// JSON on stdin, JSON read from stdout. Only when the network allows it (`allowExec`).
import { spawn as spawnChild } from 'node:child_process';
import type { SchedulerLike } from 'rxjs';
import { TributaryError } from '../errors';
import { ALLOW_EXEC_SERVICE } from '../network/network';
import type { NodeContext } from '../nodes/types';

/** The service key a network provides when it allows nodes to run executables (`new Network({ allowExec: true })`, `--allow-exec`). */
export const ALLOW_EXEC = ALLOW_EXEC_SERVICE;

/**
 * Throws unless the network allows running executables; call it in a node's `create`.
 *
 * @example
 * ```ts
 * create: (ctx) => { requireExec(ctx, 'spawn'); … }
 * ```
 */
export function requireExec(ctx: NodeContext, what: string): void {
  let allowed = false;
  try {
    allowed = ctx.service<unknown>(ALLOW_EXEC) === true;
  } catch {
    allowed = false;
  }
  if (!allowed) {
    throw new TributaryError(
      'BAD_OPTION',
      `node '${ctx.name}' (${what}) runs executables, which this network does not allow: ` +
        'start it with new Network({ allowExec: true }) or `tributary run --allow-exec`',
    );
  }
}

/** What {@link runJson} needs. */
export interface ExecOptions {
  path: string;
  args?: readonly string[];
  /** Longest the program may run, in ms (0: no limit); timed on `scheduler`. */
  timeoutMs: number;
  scheduler: SchedulerLike;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/**
 * Runs `path args…` with `input` as JSON on stdin and parses its stdout as JSON (empty output
 * is `null`). A non-zero exit, a signal, output that is not JSON, more than 16 MiB of output or
 * the timeout (the program is killed) reject with a message naming the program and quoting
 * the start of its stderr.
 *
 * @example
 * ```ts
 * const out = await runJson({ a: 1 }, { path: './enrich.py', timeoutMs: 5000, scheduler: ctx.scheduler });
 * ```
 */
export function runJson(input: unknown, o: ExecOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let child: ReturnType<typeof spawnChild>;
    try {
      child = spawnChild(o.path, [...(o.args ?? [])], { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      reject(new Error(`cannot run ${o.path}: ${(e as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let settled = false;
    let timer: { unsubscribe(): void } | undefined;
    const finish = (fail?: Error, value?: unknown) => {
      if (settled) return;
      settled = true;
      timer?.unsubscribe();
      if (fail) reject(fail);
      else resolve(value);
    };
    if (o.timeoutMs > 0) {
      timer = o.scheduler.schedule(() => {
        child.kill('SIGKILL');
        finish(new Error(`${o.path} timed out after ${o.timeoutMs}ms (killed)`));
      }, o.timeoutMs);
    }
    child.stdout!.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT) {
        child.kill('SIGKILL');
        finish(new Error(`${o.path} wrote more than ${MAX_OUTPUT} bytes (killed)`));
      } else out.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      if (err.reduce((n, b) => n + b.length, 0) < 4096) err.push(chunk);
    });
    child.on('error', (e) => finish(new Error(`cannot run ${o.path}: ${e.message}`)));
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8').trim().slice(0, 500);
      const tail = stderr ? `: ${stderr}` : '';
      if (signal) return finish(new Error(`${o.path} was killed by ${signal}${tail}`));
      if (code !== 0) return finish(new Error(`${o.path} exited with status ${code}${tail}`));
      const text = Buffer.concat(out).toString('utf8').trim();
      if (text === '') return finish(undefined, null);
      try {
        finish(undefined, JSON.parse(text));
      } catch {
        finish(new Error(`${o.path} did not write JSON on stdout: ${JSON.stringify(text.slice(0, 200))}`));
      }
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(JSON.stringify(input) + '\n');
  });
}
