import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO, 'bin', 'tributary.js');

/** Compiles lib/ to dist/ and bundles the CLI (what `npm run build` does) so the real bin runs this code. */
export function buildDist(): void {
  compileDist();
  // bin runs dist/cli.js when it exists: never let a stale bundle answer for the sources.
  execFileSync(process.execPath, [path.join(REPO, 'scripts', 'bundle-cli.js')], { cwd: REPO, stdio: 'pipe' });
}

function compileDist(): void {
  try {
    execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: REPO,
      stdio: 'pipe',
    });
  } catch (e) {
    // tsc still emits when files elsewhere have type errors; what matters is that the CLI was built.
    const out = String((e as { stdout?: Buffer }).stdout ?? '');
    if (!existsSync(path.join(REPO, 'dist', 'lib', 'cli', 'index.js'))) throw new Error(`build failed:\n${out}`);
    console.warn(`tsc reported errors outside the CLI (dist was still emitted):\n${out.split('\n').slice(0, 5).join('\n')}`);
  }
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The running CLI: its process, and a promise of how it ended. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  done: Promise<Result>;
  /** Resolves once stdout contains `text`. */
  waitForOutput(text: string): Promise<void>;
}

/**
 * Starts `tributary <args>` as a child process (the real bin over dist/).
 */
export function start(args: string[], cwd = REPO): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of waiters.splice(0)) {
      if (stdout.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    child,
    stdout: () => stdout,
    done,
    waitForOutput: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stdout.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void done.then((r) => reject(new Error(`the CLI exited (${r.code}) before printing ${JSON.stringify(text)}; stderr: ${r.stderr}`)));
      }),
  };
}

/** Runs `tributary <args>` to completion. */
export function tributary(args: string[], cwd = REPO): Promise<Result> {
  return start(args, cwd).done;
}

/** True if Graphviz's `dot` is on the PATH. */
export function hasDot(): boolean {
  return spawnSync('dot', ['-V'], { stdio: 'ignore' }).status === 0;
}
