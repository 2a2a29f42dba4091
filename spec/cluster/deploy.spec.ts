// Deployed scripts in NATS KV (lib/cluster/deploy.ts, lib/cluster/catalog.ts) against the
// local NATS server: versions grow by one per deploy, concurrent deploys never share a
// version, undeploy removes, and a watching catalog sees both.
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { kvCatalog } from '../../lib/cluster/catalog';
import { checkScriptName, deploy, listScripts, undeploy } from '../../lib/cluster/deploy';
import { scriptsBucket, type DeployedScript } from '../../lib/cluster/types';
import { poller } from './helpers';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;

const until = poller(10_000, 20);

describe('script names', () => {
  it('are letters, digits, _ and -', () => {
    expect(() => checkScriptName('liability_2-b')).not.toThrow();
    expect(() => checkScriptName('a.p3')).toThrow(/script name 'a\.p3': letters, digits, _ and - only/);
    expect(() => checkScriptName('')).toThrow(/script name ''/);
  });
});

suite(`deployed scripts in NATS KV at ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  let nc: NatsConnection;
  const groups: string[] = [];
  const group = () => {
    const g = `spec-deploy-${process.pid}-${groups.length}-${Date.now()}`;
    groups.push(g);
    return g;
  };

  beforeAll(async () => {
    nc = await connect({ servers: URL });
  });
  afterAll(async () => {
    const jsm = await nc.jetstreamManager();
    for (const g of groups) await jsm.streams.delete(`KV_${scriptsBucket(g)}`).catch(() => undefined);
    await nc.close();
  });

  it('versions a script by one per deploy, lists it, and goes on counting after undeploy', async () => {
    const g = group();
    const a = await deploy(nc, g, { name: 'liability', format: 'lua', source: 'v1', deployedBy: 'me@host' });
    const b = await deploy(nc, g, { name: 'liability', format: 'lua', source: 'v2', partitions: 16 });
    await deploy(nc, g, { name: 'other', format: 'yaml', source: 'nodes: []' });
    expect([a.version, b.version]).toEqual([1, 2]);
    const listed = await listScripts(nc, g);
    expect(listed.map((s) => [s.name, s.version, s.source, s.partitions])).toEqual([
      ['liability', 2, 'v2', 16],
      ['other', 1, 'nodes: []', undefined],
    ]);
    expect(await undeploy(nc, g, 'liability')).toBe(true);
    expect(await undeploy(nc, g, 'liability')).toBe(false);
    expect((await listScripts(nc, g)).map((s) => s.name)).toEqual(['other']);
    expect((await deploy(nc, g, { name: 'liability', format: 'lua', source: 'v3' })).version).toBe(3);
  });

  it('undeploy in a group nothing was deployed to answers false and creates no bucket', async () => {
    const g = group();
    expect(await undeploy(nc, g, 'liability')).toBe(false);
    const jsm = await nc.jetstreamManager();
    await expect(jsm.streams.info(`KV_${scriptsBucket(g)}`)).rejects.toThrow(/stream not found/);
  });

  it('gives concurrent deploys of one name different versions (compare-and-set on the KV revision)', async () => {
    const g = group();
    const conns = await Promise.all([0, 1, 2, 3].map(() => connect({ servers: URL })));
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) => deploy(conns[i % conns.length], g, { name: 'race', format: 'lua', source: `-- ${i}` })),
      );
      const versions = results.map((r) => r.version).sort((x, y) => x - y);
      expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const [stored] = await listScripts(nc, g);
      // The stored one is the deploy that got the highest version.
      expect(stored.source).toBe(results.find((r) => r.version === 12)!.source);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  it('refuses bad input with the field named', async () => {
    const g = group();
    await expect(deploy(nc, g, { name: 'x', format: 'lua', source: '', partitions: 0 })).rejects.toThrow(
      /script 'x': partitions must be an integer from 1 to 1024, got 0/,
    );
    await expect(deploy(nc, g, { name: 'x', format: 'toml' as 'lua', source: '' })).rejects.toThrow(/format 'toml' is not one of/);
  });

  it('kvCatalog lists what is deployed, then every deploy and undeploy', async () => {
    const g = group();
    await deploy(nc, g, { name: 'first', format: 'lua', source: 'a' });
    const catalog = kvCatalog(nc, g);
    const seen: Array<readonly DeployedScript[]> = [];
    const off = catalog.subscribe((s) => seen.push(s));
    const last = () => seen[seen.length - 1]?.map((s) => `${s.name}@${s.version}`).join(',');
    try {
      await until('the initial list', () => seen.length > 0);
      expect(last()).toBe('first@1');
      await deploy(nc, g, { name: 'second', format: 'lua', source: 'b' });
      await until('second deployed', () => last() === 'first@1,second@1');
      await deploy(nc, g, { name: 'first', format: 'lua', source: 'a2' });
      await until('first redeployed', () => last() === 'first@2,second@1');
      await undeploy(nc, g, 'second');
      await until('second undeployed', () => last() === 'first@2');
      // Only whole lists, each a state the bucket was in.
      expect(seen.map((s) => s.length)).not.toContain(0);
    } finally {
      off();
      await catalog.close();
    }
  });

  it('kvCatalog of an empty group reports an empty list', async () => {
    const catalog = kvCatalog(nc, group());
    const seen: Array<readonly DeployedScript[]> = [];
    catalog.subscribe((s) => seen.push(s));
    try {
      await until('the initial list', () => seen.length > 0);
      expect(seen[0]).toEqual([]);
    } finally {
      await catalog.close();
    }
  });
});
