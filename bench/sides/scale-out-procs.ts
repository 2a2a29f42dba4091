/**
 * Process helpers for the scale-out bench sides: a private nats-server on a spare loopback
 * port, and the CPU time and peak RSS of other processes read from /proc (Linux).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';

/** Where Debian installs nats-server. */
export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/**
 * A port nothing listens on right now.
 *
 * @example
 * ```ts
 * const port = await sparePort();
 * ```
 */
export function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A private nats-server with JetStream on its own store directory. */
export interface PrivateNats {
  url: string;
  pid: number;
  /** SIGKILL the server and remove its store. */
  dispose(): Promise<void>;
}

/**
 * Starts nats-server with JetStream on a spare port and a fresh store directory; resolves once
 * JetStream answers (polled every 50 ms, at most 10 s). `gomaxprocs` caps the Go scheduler's
 * threads running at once (GOMAXPROCS): with 1, the server does not spin a second core
 * between messages.
 *
 * @example
 * ```ts
 * const nats = await startPrivateNats();
 * try { … } finally { await nats.dispose(); }
 * ```
 */
export async function startPrivateNats(options: { gomaxprocs?: number } = {}): Promise<PrivateNats> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-bench-nats-'));
  const port = await sparePort();
  const child: ChildProcess = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
    stdio: 'ignore',
    env: { ...process.env, ...(options.gomaxprocs ? { GOMAXPROCS: String(options.gomaxprocs) } : {}) },
  });
  const url = `nats://127.0.0.1:${port}`;
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const nc: NatsConnection = await connect({ servers: url, reconnect: false });
      await (await nc.jetstreamManager()).getAccountInfo();
      await nc.close();
      return { url, pid: child.pid!, dispose };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  await dispose();
  throw new Error(`${NATS_SERVER} did not come up on port ${port}`);
}

const TICK_MS = 1000 / 100; // USER_HZ is 100 on Linux

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; 0 when
 * the process is gone.
 *
 * @example
 * ```ts
 * const before = cpuMsOf(child.pid!);
 * ```
 */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/**
 * Peak resident set size of a process so far (VmHWM), in MB; 0 when the process is gone.
 *
 * @example
 * ```ts
 * peakRssOf(child.pid!); // 182.5
 * ```
 */
export function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}
