/**
 * A NATS JetStream cluster of the test's own: N nats-server processes on spare loopback ports
 * (client and route port each), each with its own store directory, routed to one another.
 * Nodes are killed with SIGKILL by PID and can be started again on their store. The shared
 * server on 4222 is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { freePort, type OwnServer } from './servers';

/** Where Debian installs nats-server (v2.9.10 here). */
export const NATS_SERVER = '/usr/sbin/nats-server';

/**
 * Starts a single private nats-server (JetStream on the server's own store dir and port);
 * resolves once JetStream answers. Call again after `server.kill()` to restart it on the same
 * port and store.
 */
export function startSingleNats(server: OwnServer): Promise<void> {
  return server.start([NATS_SERVER, '-a', '127.0.0.1', '-p', String(server.port), '-js', '-sd', server.dir], async () => {
    const nc = await connect({ servers: `nats://127.0.0.1:${server.port}`, reconnect: false });
    try {
      await (await nc.jetstreamManager()).streams.list().next();
    } finally {
      await nc.close();
    }
  });
}

/** One server of a {@link NatsCluster}. */
export interface ClusterNode {
  /** Server name (`n1` …), unique in the cluster as JetStream clustering requires. */
  readonly name: string;
  /** Client port. */
  readonly port: number;
  /** Route (cluster) port. */
  readonly routePort: number;
  /** Its own JetStream store directory. */
  readonly dir: string;
  /** Client URL, `nats://127.0.0.1:<port>`. */
  readonly url: string;
}

/**
 * Polls `probe` every 100 ms until it resolves, at most `ms`; rejects naming `what` and the
 * last error (a bounded wait for a condition, no fixed sleep).
 *
 * @example
 * ```ts
 * await until('the stream has a leader', 10_000, () => cluster.streamLeader(nc, 'R3'));
 * ```
 */
export async function until<T>(what: string, ms: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await probe();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what} within ${ms} ms: ${last instanceof Error ? last.message : String(last)}`);
}

/**
 * A NATS JetStream cluster on loopback ports, for fault specs.
 *
 * @example
 * ```ts
 * const cluster = await NatsCluster.start(3);
 * try {
 *   const nc = await cluster.connect();
 *   await (await nc.jetstreamManager()).streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
 *   await cluster.kill(0); // SIGKILL n1; the stream keeps a quorum on n2 and n3
 * } finally {
 *   await cluster.dispose();
 * }
 * ```
 */
export class NatsCluster {
  private readonly children = new Map<number, ChildProcess>();

  private constructor(
    readonly name: string,
    readonly nodes: readonly ClusterNode[],
  ) {}

  /**
   * Starts `size` routed servers with JetStream and resolves once every one of them answers a
   * JetStream request (the cluster has elected its meta leader).
   */
  static async start(size = 3): Promise<NatsCluster> {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < size; i++) {
      const port = await freePort();
      let routePort = await freePort();
      while (routePort === port) routePort = await freePort();
      nodes.push({
        name: `n${i + 1}`,
        port,
        routePort,
        dir: mkdtempSync(path.join(os.tmpdir(), `tb-natsc-n${i + 1}-`)),
        url: `nats://127.0.0.1:${port}`,
      });
    }
    const cluster = new NatsCluster(`tb_${process.pid}_${Date.now().toString(36)}`, nodes);
    try {
      for (let i = 0; i < size; i++) cluster.spawn(i);
      for (let i = 0; i < size; i++) await cluster.waitJetStream(i, 30_000);
    } catch (e) {
      await cluster.dispose();
      throw e;
    }
    return cluster;
  }

  /** Client URLs of all nodes, as `connect({ servers })` takes them. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** The PID of node `i`, or undefined while it is down. */
  pid(i: number): number | undefined {
    return this.children.get(i)?.pid;
  }

  /** True while node `i`'s process runs. */
  running(i: number): boolean {
    const c = this.children.get(i);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  private spawn(i: number): void {
    const n = this.nodes[i];
    const routes = this.nodes
      .filter((_, j) => j !== i)
      .map((o) => `nats://127.0.0.1:${o.routePort}`)
      .join(',');
    const argv = [
      '-a',
      '127.0.0.1',
      '-p',
      String(n.port),
      '--server_name',
      n.name,
      '-js',
      '-sd',
      n.dir,
      '--cluster_name',
      this.name,
      '--cluster',
      `nats://127.0.0.1:${n.routePort}`,
      '--routes',
      routes,
    ];
    this.children.set(i, spawn(NATS_SERVER, argv, { stdio: 'ignore' }));
  }

  /** Resolves once node `i` answers a JetStream account request (bounded by `ms`). */
  async waitJetStream(i: number, ms = 30_000): Promise<void> {
    await until(`nats-server ${this.nodes[i].name} did not serve JetStream`, ms, async () => {
      const nc = await connect({ servers: this.nodes[i].url, reconnect: false, timeout: 1000 });
      try {
        await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
      } finally {
        await nc.close();
      }
    });
  }

  /**
   * A client connected to the given nodes (default all), reconnecting to the others when one
   * goes away.
   */
  connect(nodes: readonly number[] = this.nodes.map((_, i) => i)): Promise<NatsConnection> {
    return connect({
      servers: nodes.map((i) => this.nodes[i].url),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
  }

  /** SIGKILL node `i` by PID; resolves once the process is gone. */
  kill(i: number): Promise<void> {
    const child = this.children.get(i);
    this.children.delete(i);
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts node `i` again on its store and waits until it serves JetStream. */
  async restart(i: number, ms = 30_000): Promise<void> {
    if (this.running(i)) throw new Error(`node ${this.nodes[i].name} is running`);
    this.spawn(i);
    await this.waitJetStream(i, ms);
  }

  /**
   * Which node leads a stream's RAFT group (by index), from the stream's cluster info asked
   * through `nc`.
   */
  async streamLeader(nc: NatsConnection, stream: string): Promise<number> {
    const info = await (await nc.jetstreamManager()).streams.info(stream);
    const leader = info.cluster?.leader;
    const i = this.nodes.findIndex((n) => n.name === leader);
    if (i < 0) throw new Error(`stream '${stream}' has no leader yet (cluster info: ${JSON.stringify(info.cluster)})`);
    return i;
  }

  /** Kills every node and removes their stores. */
  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)));
    for (const n of this.nodes) rmSync(n.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a cluster of `size` for the enclosing `describe` (in `beforeAll`, within 60 s) and
 * disposes of it after its tests; returns a getter for it (set once `beforeAll` ran).
 *
 * @example
 * ```ts
 * describe('a 3-node cluster loses one server', () => {
 *   const own = ownCluster(3);
 *   it('keeps serving', async () => {
 *     const cluster = own();
 *     await cluster.kill(0);
 *   });
 * });
 * ```
 */
export function ownCluster(size: number): () => NatsCluster {
  let cluster: NatsCluster | undefined;
  beforeAll(async () => {
    cluster = await NatsCluster.start(size);
  }, 60_000);
  afterAll(async () => {
    await cluster?.dispose();
  });
  return () => cluster!;
}
