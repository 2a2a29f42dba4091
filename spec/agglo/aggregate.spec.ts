import { Subject } from 'rxjs';
import { StateStores } from '../../lib/agglo/stateful';
import { createNodeContext } from '../../lib/network/context';
import { aggregate, applyAggregation, groupPath, type AggregationState } from '../../lib/agglo/aggregate';
import { TributaryError } from '../../lib/errors';
import { createEvent } from '../../lib/event';
import { memoryStore } from '../../lib/state/memory';
import { natsEvent, runNode, tracked } from './state-support';

const sum = (extra: Record<string, unknown> = {}) => ({ key: 'n', aggregationType: 'AggSum', groupByKeys: [], ...extra });

describe('aggregate: the aggregations as agglo keeps them', () => {
  const run = (type: string, values: unknown[], groupByKeys: string[] = []) => {
    const s: AggregationState = { values: {} };
    for (const v of values) applyAggregation(s, { key: 'x', aggregationType: type as never, groupByKeys }, v as never);
    return s.values;
  };

  it('sums, keeping { value }', () => {
    expect(run('AggSum', [{ x: 1 }, { x: 2.5 }, { x: -4 }])).toEqual({ 'x:AggSum': { value: -0.5 } });
  });
  it('takes the max, also of values all below zero (agglo started max at 0)', () => {
    expect(run('AggMax', [{ x: -5 }, { x: -2 }, { x: -9 }])).toEqual({ 'x:AggMax': { value: -2 } });
  });
  it('takes the min', () => {
    expect(run('AggMin', [{ x: 5 }, { x: 2 }, { x: 9 }])).toEqual({ 'x:AggMin': { value: 2 } });
  });
  it('averages, keeping { sum, num }', () => {
    expect(run('AggAvg', [{ x: 1 }, { x: 2 }, { x: 6 }])).toEqual({ 'x:AggAvg': { sum: 9, num: 3 } });
  });
  it('counts events carrying the field, whatever its value', () => {
    expect(run('AggCount', [{ x: 'a' }, { y: 1 }, { x: false }, { x: 3 }])).toEqual({ 'x:AggCount': { value: 3 } });
  });
  it('builds a discrete histogram of strings, booleans and numbers (agglo rejected JSON numbers)', () => {
    expect(run('AggDiscreteHistogram', [{ x: 'a' }, { x: 'b' }, { x: 'a' }, { x: true }, { x: 3 }])).toEqual({
      'x:AggDiscreteHistogram': { buckets: { a: 2, b: 1, true: 1, 3: 1 } },
    });
  });
  it('groups by nested fields (dot paths), nil where one is missing (agglo read only top-level keys)', () => {
    const v = run(
      'AggSum',
      [{ x: 1, u: { name: 'ann' } }, { x: 2, u: { name: 'bob' } }, { x: 4, u: { name: 'ann' } }, { x: 8 }],
      ['u.name'],
    );
    expect(v).toEqual({ 'x:AggSum': { ann: { value: 5 }, bob: { value: 2 }, nil: { value: 8 } } });
    expect(groupPath({ key: 'x', aggregationType: 'AggSum', groupByKeys: ['a', 'b'] }, { a: 1, b: true })).toEqual([
      'x:AggSum',
      '1',
      'true',
    ]);
  });
  it('aggregates a nested field and list items by index, as agglo flattens events', () => {
    const s: AggregationState = { values: {} };
    applyAggregation(s, { key: 'm.k.1', aggregationType: 'AggSum', groupByKeys: [] }, { m: { k: [10, 20] } });
    expect(s.values).toEqual({ 'm.k.1:AggSum': { value: 20 } });
  });
  it('leaves the state alone when the event lacks the field', () => {
    const s: AggregationState = { values: {} };
    expect(applyAggregation(s, { key: 'x', aggregationType: 'AggSum', groupByKeys: [] }, { y: 1 })).toBe(false);
    expect(s.values).toEqual({});
  });
  it('refuses a value that does not fit, naming the field', () => {
    expect(() => run('AggSum', [{ x: 'ten' }])).toThrow('field \'x\' must be a number for AggSum, got string "ten"');
    expect(() => run('AggDiscreteHistogram', [{ x: null }])).toThrow("field 'x' must be a string, number or boolean");
  });
});

describe('aggregate node', () => {
  it('forwards the pipeline state as internal:aggregation:<pipeline> (the shape of agglo basic example)', async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum({ key: 'someNum' }), forwardState: true, stateStore: kv });
    const base = { 'internal:partitionID': 'p1', 'internal:name': 'BasicPipeline' };
    const out = await runNode(node, [
      { ...base, someNum: 1.5 },
      { ...base, someNum: 2 },
    ]);
    expect(out.map((e) => e.payload)).toEqual([
      { ...base, someNum: 1.5, 'internal:aggregation:BasicPipeline': { 'someNum:AggSum': { value: 1.5 } } },
      { ...base, someNum: 2, 'internal:aggregation:BasicPipeline': { 'someNum:AggSum': { value: 3.5 } } },
    ]);
    expect((await kv.get('p1:BasicPipeline:as'))?.value).toEqual({ values: { 'someNum:AggSum': { value: 3.5 } } });
  });

  it('keeps state per pipeline name, and falls back to the process name and partition "default"', async () => {
    const kv = memoryStore();
    const node = aggregate({ name: 'sums', aggregation: sum(), stateStore: kv });
    const out = await runNode(node, [{ n: 1 }, { n: 2 }]);
    expect(out.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]); // no forwardState: events unchanged
    expect((await kv.get('default:sums:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 3 } } });
  });

  it('two aggregators of one pipeline share its state, as in agglo (both appear in the forwarded state)', async () => {
    const kv = memoryStore();
    const a = aggregate({ aggregation: sum(), forwardState: true, stateStore: kv });
    const b = aggregate({ aggregation: { key: 'who', aggregationType: 'AggDiscreteHistogram' }, forwardState: true, stateStore: kv });
    const first = await runNode(a, [{ 'internal:name': 'P', n: 2, who: 'x' }], 'a');
    const second = await runNode(b, first, 'b');
    expect(second[0].payload).toMatchObject({
      'internal:aggregation:P': { 'n:AggSum': { value: 2 }, 'who:AggDiscreteHistogram': { buckets: { x: 1 } } },
    });
  });

  it('passes events without the field on, forwarding the state there is', async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum(), forwardState: true, stateStore: kv });
    const out = await runNode(node, [{ other: 1 }, { n: 4 }, { other: 2 }]);
    expect(out.map((e) => e.payload)).toEqual([
      { other: 1 },
      { n: 4, 'internal:aggregation:n': { 'n:AggSum': { value: 4 } } },
      { other: 2, 'internal:aggregation:n': { 'n:AggSum': { value: 4 } } },
    ]);
  });

  it('turns a value that does not fit into an error event naming the node and field; state unchanged', async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum(), stateStore: kv });
    const out = await runNode(node, [{ n: 1 }, { n: 'two' }, [1, 2], { n: 3 }], 'totals');
    expect(out.map((e) => e.error?.message)).toEqual([
      undefined,
      'field \'n\' must be a number for AggSum, got string "two"',
      'aggregate needs a JSON object payload, got a list',
      undefined,
    ]);
    expect(out[1].error?.node).toBe('totals');
    expect((await kv.get('default:totals:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 4 } } });
  });

  it('lets error events through without applying them', async () => {
    const kv = memoryStore();
    const bad = { ...createEvent({ n: 100 }), error: { message: 'upstream' } } as never;
    const out = await runNode(aggregate({ aggregation: sum(), stateStore: kv }), [bad, { n: 1 }]);
    expect(out[0].error?.message).toBe('upstream');
    expect((await kv.get('default:n:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 1 } } });
  });

  it('applies a redelivered message (same Nats-Msg-Id) once, and forwards the state to both copies', async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum(), forwardState: true, stateStore: kv });
    const out = await runNode(node, [natsEvent({ n: 5 }, 'm1'), natsEvent({ n: 7 }, 'm2'), natsEvent({ n: 5 }, 'm1')]);
    expect(
      out.map((e) => (e.payload as Record<string, { 'n:AggSum': { value: number } }>)['internal:aggregation:n']['n:AggSum'].value),
    ).toEqual([5, 12, 12]);
    expect(await kv.get('default:n:as:applied:n:n:AggSum:nats:m1')).toBeDefined();
  });

  it('uses the JetStream position a nats_source stamps when the publisher set no message id', async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum(), stateStore: kv });
    const at = (seq: number, n: number) => createEvent({ n }, { headers: { 'nats-subject': 's', 'tributary-position': `nats:IN#${seq}` } });
    await runNode(node, [at(1, 1), at(2, 10), at(1, 1)]);
    expect((await kv.get('default:n:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 11 } } });
  });

  it("uses agglo's internal:messageID and Redis stream ids as message ids too", async () => {
    const kv = memoryStore();
    const node = aggregate({ aggregation: sum(), stateStore: kv });
    const redis = (id: string, n: number) => createEvent({ n }, { headers: { 'redis-stream': 'in', 'redis-id': id } });
    await runNode(node, [
      { n: 1, 'internal:messageID': 'a' },
      { n: 1, 'internal:messageID': 'a' },
      redis('1-0', 10),
      redis('1-0', 10),
      redis('2-0', 100),
    ]);
    expect((await kv.get('default:n:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 111 } } });
  });

  it('applies events without a stable id every time (at least once; a process-local id could repeat after a restart)', async () => {
    const kv = memoryStore();
    await runNode(aggregate({ aggregation: sum(), stateStore: kv }), [{ n: 1 }, { n: 1 }]);
    expect((await kv.get('default:n:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 2 } } });
  });

  it('emits an event (so it can be acked downstream) only after its update has committed', async () => {
    const kv = tracked(memoryStore());
    let open!: () => void;
    kv.gate = new Promise<void>((r) => (open = r));
    const seen: unknown[] = [];
    const node = aggregate({ aggregation: sum(), stateStore: kv });
    const done = runNode(node, [{ n: 1 }]).then((out) => seen.push(...out));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); // every step it could take before the batch
    expect(seen).toEqual([]);
    expect(kv.batches).toBe(0);
    open();
    await done;
    expect(seen).toHaveLength(1);
    expect(kv.batches).toBe(1);
  });

  it('a failing store makes an error event (nacked downstream); the redelivery is then applied once', async () => {
    const inner = memoryStore();
    let fail = true;
    const flaky = {
      ...inner,
      batch: async (ops: Parameters<typeof inner.batch>[0]) => {
        if (fail) {
          fail = false;
          await inner.batch(ops);
          throw new Error('connection reset after commit');
        }
        return inner.batch(ops);
      },
    };
    const node = aggregate({ aggregation: sum(), stateStore: flaky });
    const out = await runNode(node, [natsEvent({ n: 5 }, 'x'), natsEvent({ n: 5 }, 'x')]);
    expect(out[0].error?.message).toBe('connection reset after commit');
    expect(out[1].error).toBeUndefined();
    expect((await inner.get('default:n:as'))?.value).toEqual({ values: { 'n:AggSum': { value: 5 } } });
  });
});

describe('aggregate options: agglo Aggregator in protobuf JSON', () => {
  const bad = (o: Record<string, unknown>) => {
    try {
      aggregate(o as never);
    } catch (e) {
      expect(e).toBeInstanceOf(TributaryError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('rejects unknown fields of the aggregation, with a suggestion', () => {
    expect(bad({ aggregation: { key: 'n', aggregationTyp: 'AggSum' } })).toMatch(
      /aggregation.*unknown field 'aggregationTyp'.*did you mean 'aggregationType'/,
    );
  });
  it('rejects an unknown aggregation type, naming the option', () => {
    expect(bad({ aggregation: { key: 'n', aggregationType: 'AggSun' } })).toMatch(/aggregation\.aggregationType.*AggSum/);
  });
  it('rejects an unknown option of the process', () => {
    expect(bad({ aggregation: sum(), forwardstate: true })).toMatch(/unknown option 'forwardstate'.*did you mean 'forwardState'/);
  });
  it('requires the aggregation, its key and its type', () => {
    expect(bad({})).toMatch(/option 'aggregation' is required/);
    expect(bad({ aggregation: { aggregationType: 'AggSum' } })).toMatch(/aggregation\.key/);
    expect(bad({ aggregation: { key: 'n' } })).toMatch(/aggregation\.aggregationType/);
  });
  it('takes enum numbers as protobuf JSON does, and the fields agglo configs carry', async () => {
    const kv = memoryStore();
    const node = aggregate({
      name: 'SumSomeNum',
      condition: {},
      stateStore: kv,
      asyncCheckpoint: false,
      forwardState: true,
      aggregation: { key: 'n', aggregationType: 5 as never, groupByKeys: [] },
    });
    const out = await runNode(node, [{ n: 'x' }]);
    expect(out[0].payload).toMatchObject({ 'internal:aggregation:SumSomeNum': { 'n:AggCount': { value: 1 } } });
  });
});

describe('aggregate condition (agglo Condition)', () => {
  it('aggregates only events the condition holds for; the others pass untouched', async () => {
    const kv = memoryStore();
    const condition = {
      expression: { comparator: { lhs: { variable: { name: 'version-control' } }, rhs: { literal: 'git-dev' }, op: 'Equal' } },
    };
    const node = aggregate({
      condition,
      aggregation: { key: 'pusher.name', aggregationType: 'AggDiscreteHistogram' },
      forwardState: true,
      stateStore: kv,
    });
    const out = await runNode(node, [
      { 'version-control': 'git-dev', pusher: { name: 'ann' } },
      { 'version-control': 'svn', pusher: { name: 'bob' } },
      { pusher: { name: 'cy' } },
    ]);
    expect(out[1].payload).toEqual({ 'version-control': 'svn', pusher: { name: 'bob' } });
    expect((await kv.get('default:n:as'))?.value).toEqual({ values: { 'pusher.name:AggDiscreteHistogram': { buckets: { ann: 1 } } } });
  });
  it('rejects a bad condition when the node is made, naming the option path', () => {
    expect(() => aggregate({ condition: { exists: { ops: [{ key: 'a', op: 'Exist' }] } }, aggregation: sum() })).toThrow(
      /node kind 'aggregate': condition\.exists\.ops\[0\]\.op.*Exist/,
    );
  });
});

describe('aggregate lifecycle', () => {
  it('completes on no events without touching the store', async () => {
    const kv = tracked(memoryStore());
    expect(await runNode(aggregate({ aggregation: sum(), stateStore: kv }), [])).toEqual([]);
    expect(kv.batches).toBe(0);
  });

  it('works on never-ending input: each event comes out once committed, before the input ends', async () => {
    const input = new Subject<ReturnType<typeof createEvent>>();
    const out: unknown[] = [];
    const node = aggregate({ aggregation: sum(), forwardState: true, stateStore: memoryStore() });
    if (node.role !== 'pipeline') throw new Error('pipeline');
    const sub = node
      .create(createNodeContext('n'))
      .call(undefined, input)
      .subscribe((e) => out.push(e.payload));
    input.next(createEvent({ n: 1 }));
    input.next(createEvent({ n: 2 }));
    while (out.length < 2) await new Promise((r) => setImmediate(r));
    expect(out[1]).toMatchObject({ 'internal:aggregation:n': { 'n:AggSum': { value: 3 } } });
    sub.unsubscribe(); // early unsubscribe: nothing more comes out
    input.next(createEvent({ n: 4 }));
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    expect(out).toHaveLength(2);
  });

  it('closes a store it opened itself (outside a network) when it ends', async () => {
    const closeAll = jest.spyOn(StateStores.prototype, 'closeAll');
    try {
      await runNode(aggregate({ aggregation: sum(), stateStore: 'memory:x' }), [{ n: 1 }]);
      expect(closeAll).toHaveBeenCalled();
    } finally {
      closeAll.mockRestore();
    }
  });
});
