// Group members coordinating through a real NATS KV bucket (docs/scale-out.md). The units are
// built by an in-process UnitFactory that records every start and stop, so the specs can check
// who ran what at every observed moment; NATS itself is real.
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect, type NatsConnection } from 'nats';
import { GroupMember, readGroup, groupBucket } from '../../lib/cluster';
import type { DeployedScript, PreparedUnit, ScriptCatalog, UnitFactory, UnitHandle, UnitStats, WorkUnit } from '../../lib/cluster';
import { TributaryError } from '../../lib/errors';
import { captureLogger, waitFor } from '../connectors/helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const LEASE = '2s';
jest.setTimeout(60_000);

/** Who runs what, across all members of a spec: flags any moment with two owners of one unit. */
class Recorder {
  readonly running = new Map<string, { member: string; version: number }>();
  readonly violations: string[] = [];
  readonly prepares: Array<{ member: string; unit: string; version: number; epoch: number }> = [];
  start(member: string, unit: string, version: number): void {
    const cur = this.running.get(unit);
    if (cur) this.violations.push(`${unit} started by ${member} while ${cur.member} runs it`);
    this.running.set(unit, { member, version });
  }
  stop(member: string, unit: string): void {
    if (this.running.get(unit)?.member === member) this.running.delete(unit);
  }
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { member } of this.running.values()) out[member] = (out[member] ?? 0) + 1;
    return out;
  }
}

/** A UnitFactory whose units do nothing but count; a script whose source says 'syntax error' does not build. */
class RecordingFactory implements UnitFactory {
  /** Handles started by this factory, by unit id, so a spec can end one on its own. */
  readonly handles = new Map<string, { end: (failure?: string) => void }>();
  constructor(
    private readonly member: string,
    private readonly rec: Recorder,
  ) {}
  prepare(unit: WorkUnit, lease: { epoch: number }): Promise<PreparedUnit> {
    this.rec.prepares.push({ member: this.member, unit: unit.id, version: unit.script.version, epoch: lease.epoch });
    if (unit.script.source.includes('syntax error')) {
      return Promise.reject(new TributaryError('SCRIPT', `script '${unit.script.name}' line 1: syntax error`));
    }
    return Promise.resolve({
      unit,
      discard: () => Promise.resolve(),
      start: () => {
        this.rec.start(this.member, unit.id, unit.script.version);
        let end!: (r: { failure?: string }) => void;
        const done = new Promise<{ failure?: string }>((r) => (end = r));
        let stopped = false;
        const handle: UnitHandle = {
          unit,
          done,
          stats: (): UnitStats => ({ in: 0, out: 0, errors: 0, rate: 0, version: unit.script.version }),
          stop: async () => {
            if (stopped) return;
            stopped = true;
            await new Promise((r) => setImmediate(r)); // a drain takes a moment
            this.rec.stop(this.member, unit.id);
            end({});
          },
        };
        this.handles.set(unit.id, {
          end: (failure) => {
            stopped = true;
            this.rec.stop(this.member, unit.id);
            end(failure ? { failure } : {});
          },
        });
        return Promise.resolve(handle);
      },
    });
  }
}

/** A catalog the spec changes by hand. */
class TestCatalog implements ScriptCatalog {
  private listeners = new Set<(s: readonly DeployedScript[]) => void>();
  constructor(private scripts: DeployedScript[]) {}
  set(scripts: DeployedScript[]): void {
    this.scripts = scripts;
    for (const l of this.listeners) l(scripts);
  }
  subscribe(onChange: (s: readonly DeployedScript[]) => void): () => void {
    this.listeners.add(onChange);
    onChange(this.scripts);
    return () => this.listeners.delete(onChange);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A TCP proxy that can go silent: after `blackhole()` it swallows every byte both ways, as a dead network path does (no reset, no close). */
async function silentProxy(port: number) {
  let silent = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => void (silent || upstream.write(d)));
    upstream.on('data', (d) => void (silent || client.write(d)));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `nats://127.0.0.1:${(server.address() as AddressInfo).port}`,
    blackhole: () => void (silent = true),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function script(name: string, version: number, partitions?: number, source = 'tb.link("in", "out")'): DeployedScript {
  return { name, version, format: 'lua', source, deployedAt: Date.now(), ...(partitions ? { partitions } : {}) };
}

suite(`group members against ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let group: string;
  let rec: Recorder;
  const members: GroupMember[] = [];
  const conns: NatsConnection[] = [];
  let admin: NatsConnection;

  beforeAll(async () => {
    admin = await connect({ servers: URL });
  });
  afterAll(async () => admin?.close());
  beforeEach(() => {
    group = `spec-${randomUUID().slice(0, 8)}`;
    rec = new Recorder();
  });
  afterEach(async () => {
    await Promise.all(members.splice(0).map((m) => m.stop()));
    for (const c of conns.splice(0)) await c.close().catch(() => undefined);
    const jsm = await admin.jetstreamManager();
    await jsm.streams.delete(`KV_${groupBucket(group)}`).catch(() => undefined);
  });

  function member(id: string, catalog: ScriptCatalog, nats: string | NatsConnection = URL!) {
    const factory = new RecordingFactory(id, rec);
    const logger = captureLogger();
    const m = new GroupMember({ nats, group, catalog, factory, leaseTimeout: LEASE, memberId: id, logger });
    members.push(m);
    return { m, factory, logger };
  }

  const sortedCounts = () =>
    Object.values(rec.counts())
      .sort((a, b) => a - b)
      .join('/');

  it('two, then three members share 16 partitions evenly; a stopped member’s units move to the others; never two owners', async () => {
    const catalog = new TestCatalog([script('bets', 1, 16)]);
    await member('m1', catalog).m.start();
    await member('m2', catalog).m.start();
    await waitFor(() => rec.running.size === 16 && sortedCounts() === '8/8', 'the 16 units split 8/8');
    const m3 = member('m3', catalog);
    await m3.m.start();
    await waitFor(() => rec.running.size === 16 && sortedCounts() === '5/5/6', 'the 16 units split 6/5/5');
    // Every unit ran with the epoch of the lease it was acquired under, each new one higher.
    const bets3 = rec.prepares.filter((p) => p.unit === 'bets.p3').map((p) => p.epoch);
    expect([...bets3].sort((a, b) => a - b)).toEqual(bets3);
    // What the bucket says agrees with what runs.
    const view = await readGroup(admin, group);
    expect(view.members.map((x) => x.id).sort()).toEqual(['m1', 'm2', 'm3']);
    await waitFor(async () => (await readGroup(admin, group)).leases.length === 16, 'the 16 leases');

    await members[1].stop();
    await waitFor(() => rec.running.size === 16 && sortedCounts() === '8/8' && !rec.counts().m2, 'm2’s units taken over');
    expect(members[1].snapshot().units).toEqual({});
    expect(rec.violations).toEqual([]);
  });

  it('a redeploy while a member joins: every partition ends on the new version, never two owners', async () => {
    const catalog = new TestCatalog([script('bets', 1, 16)]);
    await member('m1', catalog).m.start();
    await member('m2', catalog).m.start();
    await waitFor(() => rec.running.size === 16 && sortedCounts() === '8/8', 'the 16 units split 8/8');
    catalog.set([script('bets', 2, 16)]);
    await member('m3', catalog).m.start();
    await waitFor(
      () => rec.running.size === 16 && sortedCounts() === '5/5/6' && [...rec.running.values()].every((r) => r.version === 2),
      'version 2 everywhere, split 6/5/5',
    );
    expect(rec.violations).toEqual([]);
  });

  it('a member cut off from NATS stops its units at once; the others take them over after the lease timeout', async () => {
    const catalog = new TestCatalog([script('bets', 1, 16)]);
    await member('m1', catalog).m.start();
    const nc2 = await connect({ servers: URL });
    conns.push(nc2);
    const m2 = member('m2', catalog, nc2);
    await m2.m.start();
    await waitFor(() => rec.running.size === 16 && sortedCounts() === '8/8', 'the 16 units split 8/8');
    const cut = Date.now();
    await nc2.close(); // m2 can no longer renew anything
    await waitFor(() => !rec.counts().m2, 'm2 stopping its units', 5_000);
    const stoppedAfter = Date.now() - cut;
    await waitFor(() => rec.counts().m1 === 16, 'm1 owning all 16 units', 2_000 + 10_000);
    const takeover = Date.now() - cut;
    console.log(`cut-off member stopped its units after ${stoppedAfter}ms; takeover after ${takeover}ms (lease ${LEASE})`);
    expect(m2.logger.messages.some((x) => /lost the lease on bets\.p\d+/.test(x))).toBe(true);
    expect(rec.violations).toEqual([]);
  });

  it('a member whose renewals go unanswered stops its units by its own clock before the lease can expire', async () => {
    const catalog = new TestCatalog([script('bets', 1, 16)]);
    await member('m1', catalog).m.start();
    const proxy = await silentProxy(Number(new globalThis.URL(URL!).port || 4222));
    const m2 = member('m2', catalog, proxy.url);
    try {
      await m2.m.start();
      await waitFor(() => rec.running.size === 16 && sortedCounts() === '8/8', 'the 16 units split 8/8');
      const cut = Date.now();
      // Renewals now get no answer: they time out after a third of the lease, and the member's
      // own clock stops a unit whose lease is about to lapse, whichever comes first.
      proxy.blackhole();
      await waitFor(() => rec.counts().m1 === 16, 'm1 owning all 16 units', 2_000 + 10_000);
      console.log(`silent member: takeover after ${Date.now() - cut}ms (lease ${LEASE})`);
      expect(rec.violations).toEqual([]);
      expect(
        m2.logger.messages.some((x) =>
          /lost the lease on bets\.p\d+ \((renewal failed: TIMEOUT|not renewed for \d+ms of a 2000ms lease)\)/.test(x),
        ),
      ).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a script version that does not build is reported once and the running version keeps going; a fixed one replaces it', async () => {
    const catalog = new TestCatalog([script('calc', 1)]);
    const a = member('a', catalog);
    await a.m.start();
    await waitFor(() => rec.running.get('calc')?.version === 1, 'calc v1 running');
    catalog.set([script('calc', 2, undefined, 'syntax error here')]);
    await waitFor(async () => {
      const view = await readGroup(admin, group);
      return view.members.find((x) => x.id === 'a')?.failed?.calc?.version === 2;
    }, 'the heartbeat reporting calc v2 failed');
    const reported = await readGroup(admin, group);
    expect(reported.members[0].failed!.calc.error).toContain("script 'calc' line 1: syntax error");
    // Two more heartbeats later it was still not retried, and v1 still runs.
    const at = reported.members[0].at;
    await waitFor(async () => ((await readGroup(admin, group)).members[0]?.at ?? 0) > at + 1000, 'two more polls', 10_000);
    expect(rec.prepares.filter((p) => p.version === 2)).toHaveLength(1);
    expect(rec.running.get('calc')).toEqual({ member: 'a', version: 1 });
    expect(a.logger.messages.filter((x) => x.includes('version 2 failed to build'))).toHaveLength(1);

    catalog.set([script('calc', 3)]);
    await waitFor(() => rec.running.get('calc')?.version === 3, 'calc v3 running');
    await waitFor(async () => (await readGroup(admin, group)).members[0]?.failed === undefined, 'the failure cleared');
    expect(rec.violations).toEqual([]);
  });

  it('a script that does not build at its first start is reported once, not retried in a loop', async () => {
    const catalog = new TestCatalog([script('calc', 1, undefined, 'syntax error at once')]);
    const a = member('a', catalog);
    await a.m.start();
    await waitFor(async () => (await readGroup(admin, group)).members[0]?.failed?.calc?.version === 1, 'the failure reported');
    const at = (await readGroup(admin, group)).members[0].at;
    await waitFor(async () => ((await readGroup(admin, group)).members[0]?.at ?? 0) > at + 1000, 'two more polls', 10_000);
    expect(rec.prepares).toHaveLength(1);
    expect(rec.running.size).toBe(0);
    expect((await readGroup(admin, group)).leases).toEqual([]);
    expect(a.m.snapshot().failed).toEqual({ calc: { version: 1, error: "script 'calc' line 1: syntax error" } });
  });

  it('a unit whose network fails on its own is released and not restarted in a tight loop', async () => {
    const catalog = new TestCatalog([script('calc', 1)]);
    const a = member('a', catalog);
    await a.m.start();
    await waitFor(() => rec.running.get('calc')?.version === 1, 'calc v1 running');
    a.factory.handles.get('calc')!.end('sink broke');
    await waitFor(async () => (await readGroup(admin, group)).leases.length === 0, 'the lease released');
    // Several polls later (a third of the lease each) it has not been started again.
    const at = (await readGroup(admin, group)).members[0].at;
    await waitFor(async () => ((await readGroup(admin, group)).members[0]?.at ?? 0) > at + 1000, 'two more polls', 10_000);
    expect(rec.prepares).toHaveLength(1);
    expect(a.logger.messages.some((x) => x.includes('unit calc (version 1) failed: sink broke'))).toBe(true);
    // After the back-off it runs again.
    await waitFor(() => rec.running.get('calc')?.version === 1, 'calc restarted after the back-off', 15_000);
  });
});
