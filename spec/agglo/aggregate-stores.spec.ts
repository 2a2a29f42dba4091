// aggregate against every store: memory and SQLite always, Redis under TRIBUTARY_REDIS_URL, PostgreSQL under TRIBUTARY_PG_URL,
// MariaDB under TRIBUTARY_MYSQL_URL. Two nodes share one store and update the same state in
// parallel: the totals are exact (compare-and-set retries, no lock), and redeliveries are not
// applied twice.
import { aggregate } from '../../lib/agglo/aggregate';
import type { KeyValueStore } from '../../lib/state/types';
import { backends, natsEvent, removeAll, runNode, uniq, wrapStore } from './state-support';

describe.each(backends())('aggregate on $name', (backend) => {
  let kv: KeyValueStore;
  let refused = 0;
  let store: KeyValueStore;
  beforeEach(async () => {
    kv = await backend.open();
    refused = 0;
    store = wrapStore(kv, { batch: async (ops) => ((await kv.batch(ops)) ? true : (refused++, false)) });
  });
  const names: string[] = [];
  const fresh = (label: string) => {
    const n = uniq(label);
    names.push(n);
    return n;
  };
  afterEach(async () => {
    for (const n of names.splice(0)) await removeAll(kv, `default:${n}:`);
    await kv.close();
  });

  it('two nodes updating one state in parallel reach exact totals, each message applied once', async () => {
    const name = fresh('par');
    const n = backend.name === 'memory' ? 150 : 40; // a SQLite transaction costs an fsync
    const half = (from: number) =>
      Array.from({ length: n }, (_, i) =>
        natsEvent({ amount: from + i, user: (from + i) % 3 === 0 ? 'ann' : 'bob' }, `${name}-${from + i}`),
      );
    const spec = { key: 'amount', aggregationType: 'AggSum', groupByKeys: ['user'] } as const;
    const a = aggregate({ name, aggregation: spec, stateStore: store, forwardState: true });
    const b = aggregate({ name, aggregation: spec, stateStore: store, forwardState: true });
    // Node b also gets 20 of a's messages again: redeliveries to another consumer.
    const [outA, outB] = await Promise.all([runNode(a, half(0), 'a'), runNode(b, [...half(n), ...half(0).slice(0, 20)], 'b')]);
    expect([...outA, ...outB].filter((e) => e.error)).toEqual([]);
    let ann = 0;
    let bob = 0;
    for (let i = 0; i < 2 * n; i++) {
      if (i % 3 === 0) ann += i;
      else bob += i;
    }
    const state = await kv.get<{ values: Record<string, unknown> }>(`default:${name}:as`);
    expect(state?.value.values).toEqual({ 'amount:AggSum': { ann: { value: ann }, bob: { value: bob } } });
    // One write per distinct message: the 20 redeliveries wrote nothing.
    expect(state?.version).toBe(2 * n);
    if (backend.name === 'memory') expect(refused).toBeGreaterThan(0); // the two really contended
  }, 60_000);

  it('avg, count and histogram survive a reopen of the store', async () => {
    const name = fresh('reopen');
    const events = [{ v: 2 }, { v: 4 }, { v: 'x' }].map((p, i) => natsEvent(p, `${name}-${i}`));
    const count = aggregate({ name, aggregation: { key: 'v', aggregationType: 'AggCount' }, stateStore: store, forwardState: true });
    const out = await runNode(count, events, 'c');
    expect(out[2].payload).toMatchObject({ [`internal:aggregation:${name}`]: { 'v:AggCount': { value: 3 } } });
    const hist = aggregate({
      name,
      aggregation: { key: 'v', aggregationType: 'AggDiscreteHistogram' },
      stateStore: store,
      forwardState: true,
    });
    const out2 = await runNode(hist, events, 'h');
    expect(out2[2].payload).toMatchObject({
      [`internal:aggregation:${name}`]: { 'v:AggDiscreteHistogram': { buckets: { 2: 1, 4: 1, x: 1 } } },
    });
    // Same messages to the count again (a restart replaying its input): nothing changes.
    await runNode(count, events, 'c');
    expect((await kv.get<{ values: Record<string, unknown> }>(`default:${name}:as`))?.value.values).toEqual({
      'v:AggCount': { value: 3 },
      'v:AggDiscreteHistogram': { buckets: { 2: 1, 4: 1, x: 1 } },
    });
  });
});
