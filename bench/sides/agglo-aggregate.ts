// One side of bench/cases/agglo-aggregate.case.ts: N events summed per group into a state store
// with the applied-message record, exactly as `aggregate` does (read state and record, one
// batch checking both versions). `ours`: a network from → aggregate → sink. `anchor`: the same
// store operations in a hand-written RxJS concatMap. Args: ours|anchor, store URL (memory:, or
// sqlite: for a fresh file), N. Prints {"ms","rssMb"}.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatMap, from, lastValueFrom, toArray } from 'rxjs';
import { aggregate } from '../../lib/agglo/aggregate';
import { Network, nodes } from '../../lib/index';
import { memoryStore } from '../../lib/state/memory';
import { openStateStore } from '../../lib/state/open';
import type { BatchOp, KeyValueStore } from '../../lib/state/types';

const [side = 'ours', url = 'memory:', nArg = '20000'] = process.argv.slice(2);
const N = Number(nArg);
const payload = (i: number) => ({ amount: i % 100, user: `u${i % 10}`, 'internal:messageID': `m${i}` });

async function ours(kv: KeyValueStore): Promise<void> {
  const net = new Network({ logger: { warn: () => undefined, error: () => undefined } });
  net.add('in', nodes.from({ items: Array.from({ length: N }, (_, i) => payload(i)) }));
  net.add(
    'sum',
    aggregate({ name: 'sum', aggregation: { key: 'amount', aggregationType: 'AggSum', groupByKeys: ['user'] }, stateStore: kv }),
  );
  let seen = 0;
  net.add('out', nodes.sink({ fn: () => void seen++ }));
  net.link('in', 'sum');
  net.link('sum', 'out');
  await net.start();
  await net.done();
  if (seen !== N) throw new Error(`ours saw ${seen}`);
}

async function anchor(kv: KeyValueStore): Promise<void> {
  const key = 'default:sum:as';
  const out = await lastValueFrom(
    from(Array.from({ length: N }, (_, i) => payload(i))).pipe(
      concatMap(async (p) => {
        const applied = `${key}:applied:sum:amount:AggSum:user:agglo:${p['internal:messageID']}`;
        for (;;) {
          const [cur, seen] = await Promise.all([
            kv.get<{ values: Record<string, Record<string, Record<string, { value: number }>>> }>(key),
            kv.get(applied),
          ]);
          if (seen) return p;
          const next = cur ? structuredClone(cur.value) : { values: {} as Record<string, Record<string, { value: number }>> };
          const g = ((next.values as Record<string, Record<string, { value: number }>>)['amount:AggSum'] ??= {});
          g[p.user] = { value: (g[p.user]?.value ?? 0) + p.amount };
          const ops: BatchOp[] = [
            { op: 'check', key, version: cur?.version ?? 0 },
            { op: 'put', key, value: next },
            { op: 'check', key: applied, version: 0 },
            { op: 'put', key: applied, value: 1, ttlMs: 86_400_000 },
          ];
          if (await kv.batch(ops)) return p;
        }
      }),
      toArray(),
    ),
  );
  if (out.length !== N) throw new Error(`anchor saw ${out.length}`);
}

async function main(): Promise<void> {
  // `sqlite:` alone: a fresh database file per run (a reused one would hold the last run's records).
  const where = url === 'sqlite:' ? `sqlite:${join(mkdtempSync(join(tmpdir(), 'agglo-bench-')), 'state.db')}` : url;
  const kv = where === 'memory:' ? memoryStore() : await openStateStore(where);
  const t0 = process.hrtime.bigint();
  await (side === 'anchor' ? anchor(kv) : ours(kv));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  await kv.close();
  console.log(JSON.stringify({ ms, rssMb: Math.round(process.memoryUsage().rss / 1048576) }));
}

void main();
