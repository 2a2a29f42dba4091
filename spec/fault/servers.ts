/**
 * Private server processes for the fault specs: each on a spare port with its own data
 * directory, started and killed (SIGKILL) by PID. The shared services are never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * `describe` when the integration variable is set and the server binary is installed, else
 * `describe.skip` with a line saying what turns the spec on.
 */
export function faultSuite(name: string, variable: string, binary: string): jest.Describe {
  if (process.env[variable] !== undefined && existsSync(binary)) return describe;
  console.log(`${name}: set ${variable} (and install ${binary}) to run it`);
  return describe.skip;
}

/** One server process of a test's own. */
export class OwnServer {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /** A fresh data directory (`prefix`…) and a spare port; remove it with {@link dispose}. */
  static async create(prefix: string): Promise<OwnServer> {
    return new OwnServer(mkdtempSync(path.join(os.tmpdir(), prefix)), await freePort());
  }

  /**
   * Starts `argv` and returns what `probe` returns once it succeeds; tried every 50 ms, at
   * most 200 times (a bounded wait for the server to answer, no fixed sleep).
   */
  async start<T>(argv: string[], probe: () => Promise<T>): Promise<T> {
    this.child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        return await probe();
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`${argv[0]} on ${this.port} did not come up`);
  }

  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
