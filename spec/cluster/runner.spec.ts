// The unit factory of scale-out (lib/cluster/runner.ts): deployed script text (Lua, YAML)
// becomes a network with its partition and its own state namespace; build failures name the
// script, its version and line; state carries over to the next version of a script.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TributaryError } from '../../lib/errors';
import { scriptFileName, stateNamespace, unitFactory, type ClaimFence } from '../../lib/cluster/runner';
import type { DeployedScript, WorkUnit } from '../../lib/cluster/types';
import { claimFence as realClaimFence } from '../../lib/cluster/fence';
import { memoryStore } from '../../lib/state/memory';
import type { KeyValueStore } from '../../lib/state/types';
import { collected } from './runner-probe';

const PROBE = path.join(__dirname, 'runner-probe.ts');
const quiet = { warn: () => undefined, error: () => undefined };
const session = { plugins: [PROBE], logger: quiet };

function script(name: string, version: number, format: DeployedScript['format'], source: string): DeployedScript {
  return { name, version, format, source, deployedAt: 0 };
}

/** lib/cluster/fence.ts's claimFence, recording the claims. */
const claims: Array<{ key: string; epoch: number }> = [];
const claimFence: ClaimFence = (store, key, epoch) => {
  claims.push({ key, epoch });
  return realClaimFence(store, key, epoch);
};

async function runToEnd(factory: ReturnType<typeof unitFactory>, unit: WorkUnit, epoch = 1) {
  const prepared = await factory.prepare(unit, { epoch });
  const handle = await prepared.start();
  const end = await handle.done;
  return { handle, end, stats: handle.stats() };
}

async function keys(store: KeyValueStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const [k] of store.list(prefix)) out.push(k);
  return out;
}

beforeEach(() => {
  for (const k of Object.keys(collected)) delete collected[k];
  claims.length = 0;
});

describe('unitFactory', () => {
  it("opens each partition's SQL windows in a window database of its own (here: one SQLite file per partition)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-runner-db-'));
    const factory = unitFactory({ group: 'bets', session: { ...session, db: `sqlite:${path.join(dir, 'w.db')}` } });
    const yaml = script(
      'dedupe',
      1,
      'yaml',
      'nodes:\n  - { name: src, kind: partition_source }\n  - { name: seen, kind: filter, options: { duration: 1m } }\n' +
        '  - { name: out, kind: probe_sink, options: { list: files } }\nedges:\n  - { from: src, to: seen }\n  - { from: seen, to: out }\n',
    );
    for (const index of [0, 3]) {
      const { end } = await runToEnd(factory, { id: `dedupe.p${index}`, script: yaml, partition: { index, count: 16 } });
      expect(end).toEqual({});
    }
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.db'))
        .sort(),
    ).toEqual(['w.p0.db', 'w.p3.db']);
    expect(collected.files).toHaveLength(2);
  });

  it('builds a Lua script into a partitioned network: nodes see ctx.partition with the lease epoch', async () => {
    const factory = unitFactory({ group: 'bets', session });
    const lua = script(
      'probe',
      2,
      'lua',
      "local tb = require('tributary')\ntb.create_partition_source('src')\ntb.create_probe_sink('out', 'lua')\ntb.link('src', 'out')\n",
    );
    const { end, stats } = await runToEnd(factory, { id: 'probe.p3', script: lua, partition: { index: 3, count: 16 } }, 41);
    expect(end).toEqual({});
    expect(collected.lua).toEqual([{ group: 'bets', index: 3, count: 16, epoch: 41 }]);
    expect(stats).toMatchObject({ in: 1, out: 1, errors: 0, version: 2 });
  });

  it('builds a YAML network; a unit that is not a partition has no ctx.partition', async () => {
    const factory = unitFactory({ group: 'bets', session });
    const yaml = script(
      'probe',
      1,
      'yaml',
      'nodes:\n  - { name: src, kind: partition_source }\n  - { name: out, kind: probe_sink, options: { list: yaml } }\nedges:\n  - { from: src, to: out }\n',
    );
    const { stats } = await runToEnd(factory, { id: 'probe', script: yaml });
    expect(collected.yaml).toEqual([null]);
    expect(stats.version).toBe(1);
  });

  it('refuses a script that does not build, naming the script, its version and the line', async () => {
    const factory = unitFactory({ group: 'bets', session });
    const bad = script('liability', 4, 'lua', "local tb = require('tributary')\n\ntb.create_nonsense('x')\n");
    const err = await factory.prepare({ id: 'liability', script: bad }, { epoch: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TributaryError);
    expect((err as Error).message).toMatch(/^script 'liability' version 4: liability\.lua:3: /);
    const yaml = script('net', 7, 'yaml', 'nodes:\n  - { name: a, kind: ticker, options: { interval: nope } }\n');
    const err2 = await factory.prepare({ id: 'net', script: yaml }, { epoch: 1 }).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/^script 'net' version 7: net\.yaml:2:/);
  });

  it('checkpoints each partition under its own namespace, fenced with the lease epoch; the next version restores it', async () => {
    const store = memoryStore();
    const factory = unitFactory({ group: 'bets', session, state: { store, checkpointInterval: '10ms' }, claimFence });
    const source = (stakes: number[]) =>
      "local tb = require('tributary')\n" +
      `tb.create_from('bets', { ${stakes.map((s) => `{ customer = 'a', stake = ${s} }`).join(', ')} })\n` +
      "tb.create_stateful('sums', 'customer', function(sum, bet) local s = (sum or 0) + bet.stake; return { state = s, emit = s } end)\n" +
      "tb.create_probe_sink('out', 'sums')\ntb.link('bets', 'sums')\ntb.link('sums', 'out')\n";
    const unit = (version: number, stakes: number[]): WorkUnit => ({
      id: 'sums.p5',
      script: script('sums', version, 'lua', source(stakes)),
      partition: { index: 5, count: 8 },
    });
    await runToEnd(factory, unit(1, [1, 2]), 7);
    expect(collected.sums).toEqual([1, 3]);
    expect(claims).toEqual([{ key: 'bets/sums/p5/#fence', epoch: 7 }]);
    expect((await keys(store, 'bets/sums/p5/')).length).toBeGreaterThan(1);
    expect(await keys(store, 'bets/sums/p4/')).toEqual([]);
    // Version 2 of the script, same unit: the sum goes on from the checkpoint.
    await runToEnd(factory, unit(2, [10]), 8);
    expect(collected.sums).toEqual([1, 3, 13]);
    expect((await store.get('bets/sums/p5/#fence'))?.value).toEqual({ epoch: 8 });
    // A stale owner (an older epoch) cannot start the unit.
    const stale = await factory.prepare(unit(3, [100]), { epoch: 6 });
    await expect(stale.start()).rejects.toThrow(/held at epoch 8, newer than this owner's 6/);
  });

  it('a running partition stops on its own once a newer owner claims its fence', async () => {
    const store = memoryStore();
    const factory = unitFactory({ group: 'bets', session, state: { store, checkpointInterval: '5ms' } });
    const source =
      "local tb = require('tributary')\ntb.create_ticker('t', '2ms')\n" +
      "tb.create_stateful('count', function(p) return 'k' end, function(n) return { state = (n or 0) + 1, emit = (n or 0) + 1 } end)\n" +
      "tb.create_probe_sink('out', 'fenced')\ntb.link('t', 'count')\ntb.link('count', 'out')\n";
    const unit: WorkUnit = { id: 'count.p0', script: script('count', 1, 'lua', source), partition: { index: 0, count: 1 } };
    const handle = await (await factory.prepare(unit, { epoch: 3 })).start();
    const deadline = Date.now() + 10_000;
    while ((collected.fenced?.length ?? 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await realClaimFence(store, 'bets/count/p0/#fence', 4);
    const end = await Promise.race([handle.done, new Promise((r) => setTimeout(() => r('still running'), 10_000))]);
    expect(end).not.toBe('still running');
    await handle.stop();
  });

  it('discard frees a prepared unit without starting it; stop drains a running one', async () => {
    const factory = unitFactory({ group: 'g', session });
    const ticking = script(
      'tick',
      1,
      'lua',
      "local tb = require('tributary')\ntb.create_ticker('t', '5ms')\ntb.create_probe_sink('out', 'tick')\ntb.link('t', 'out')\n",
    );
    const unused = await factory.prepare({ id: 'tick', script: ticking }, { epoch: 1 });
    await unused.discard();
    expect(collected.tick).toBeUndefined();
    const handle = await (await factory.prepare({ id: 'tick', script: ticking }, { epoch: 1 })).start();
    const deadline = Date.now() + 10_000;
    while ((collected.tick?.length ?? 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await handle.stop();
    expect(await handle.done).toEqual({});
    const n = collected.tick!.length;
    expect(handle.stats().out).toBe(n);
  });

  it('builds an agglo config through the agglo plugin, and reports a bad one under the script name', async () => {
    const config = JSON.parse(readFileSync(path.join(__dirname, '..', 'agglo', 'fixtures', 'orders_pipeline.json'), 'utf8'));
    const factory = unitFactory({ group: 'bets', session });
    const ok = await factory.prepare({ id: 'orders', script: script('orders', 1, 'agglo', JSON.stringify(config)) }, { epoch: 1 });
    await ok.discard();
    const bad = JSON.stringify({ ...config, partitionUuid: 'p1' });
    const err = await factory.prepare({ id: 'orders', script: script('orders', 2, 'agglo', bad) }, { epoch: 1 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^script 'orders' version 2: orders\.yaml:.*partitionUuid: must be a UUID, got "p1"/);
  });

  it('names files and namespaces after the script', () => {
    expect(scriptFileName({ name: 'liability', format: 'agglo' })).toBe('liability.yaml');
    const s = script('liability', 1, 'lua', '');
    expect(stateNamespace('bets', { id: 'liability', script: s })).toBe('bets/liability/');
    expect(stateNamespace('bets', { id: 'liability.p0', script: s, partition: { index: 0, count: 2 } })).toBe('bets/liability/p0/');
  });
});
