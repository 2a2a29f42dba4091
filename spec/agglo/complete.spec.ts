import { Subject } from 'rxjs';
import { createEvent } from '../../lib/event';
import { createNodeContext } from '../../lib/network/context';
import { complete, joinValueKey, matchJoinKey } from '../../lib/agglo/complete';
import { TributaryError } from '../../lib/errors';
import { Network } from '../../lib/network/network';
import { memoryStore } from '../../lib/state/memory';
import type { KeyValueStore } from '../../lib/state/types';
import { VirtualClock, VirtualTime } from '../../lib/testing';
import { quiet, runNode, tracked, type TrackedStore } from './state-support';

const hashJoin = (timeoutMs: number | string = 1000) => ({ joinKeys: ['head', 'cicdVcsHash'], timeoutMs: timeoutMs as number });
const S = 'internal:completion:join';
const ST = 'internal:completion:state:join';

/** Runs `join` over a marble source on a virtual clock; returns the sink and the clock. */
async function virtual(marbles: string, values: Record<string, unknown>, options: Record<string, unknown>, kv: TrackedStore) {
  const t = new VirtualTime();
  const net = new Network({ scheduler: t.scheduler, logger: quiet });
  net.add('in', t.source(marbles, values));
  net.add('join', complete({ stateStore: kv, ...options } as never));
  const out = t.sink();
  net.add('out', out.node);
  net.link('in', 'join');
  net.link('join', 'out');
  const clock = new VirtualClock(t.scheduler, kv);
  await clock.start(net);
  return { out, clock, net };
}

describe('complete: matching as agglo', () => {
  it('takes the first join key present, in configured order, from the flattened event', () => {
    expect(matchJoinKey(['a', 'b.c'], { b: { c: 'x' }, a: 'y' })).toEqual(['a', 'y']);
    expect(matchJoinKey(['a', 'b.c'], { b: { c: 'x' } })).toEqual(['b.c', 'x']);
    expect(matchJoinKey(['a'], { b: 1 })).toBeUndefined();
  });
  it('formats join values as agglo keys them: integers plain, other numbers with six decimals', () => {
    expect([joinValueKey('d'), joinValueKey(true), joinValueKey(42), joinValueKey(1.5)]).toEqual(['d', 'true', '42', '1.500000']);
    expect(() => joinValueKey(null)).toThrow('a join value must be a string, number or boolean, got null');
  });
});

describe('complete node on virtual time', () => {
  it('marks the first event triggered and the one completing the join complete, with the join state; then deletes it', async () => {
    const kv = tracked(memoryStore());
    const a = { repo: 'agglo', head: 'deadbeef', state: 'passed' };
    const b = { workflow: 'agglo', cicdVcsHash: 'deadbeef', state: 'passed' };
    const { out, clock, net } = await virtual('a 499ms b|', { a, b }, { completion: hashJoin(1000) }, kv);
    await clock.advanceTo(600);
    await clock.stop(net);
    expect(out.frames).toEqual([
      { frame: 0, value: { ...a, [S]: 'triggered' } },
      {
        frame: 500,
        value: { ...b, [S]: 'complete', [ST]: { value: 'deadbeef', resolved: { head: true, cicdVcsHash: true }, deadline: 1000 } },
      },
    ]);
    expect(await kv.get('default:join:c:deadbeef')).toBeUndefined();
  });

  it('reports an event after the timeout timedout, keeps the state one more timeout for late events, then a timer removes it', async () => {
    const kv = tracked(memoryStore());
    const v = { a: { head: 'h1' }, b: { cicdVcsHash: 'h1' }, c: { cicdVcsHash: 'h1' } };
    const { out, clock, net } = await virtual('a 1499ms b 999ms c|', v, { completion: hashJoin(1000) }, kv);
    await clock.advanceTo(1999);
    expect((await kv.get('default:join:c:h1'))?.value).toEqual({
      value: 'h1',
      resolved: { head: true, cicdVcsHash: false },
      deadline: 1000,
    });
    await clock.advanceTo(2000);
    expect(await kv.get('default:join:c:h1')).toBeUndefined(); // the clean-up timer ran at deadline + timeout
    await clock.advanceTo(3000);
    await clock.stop(net);
    expect(out.frames.map((f) => [f.frame, (f.value as Record<string, unknown>)[S]])).toEqual([
      [0, 'triggered'],
      [1500, 'timedout'],
      [2500, 'triggered'], // a new join: the timed-out one is gone
    ]);
  });

  it('completes within the timeout at its last millisecond, and never times out with timeoutMs 0', async () => {
    const kv = tracked(memoryStore());
    const v = { a: { head: 1 }, b: { cicdVcsHash: 1 }, c: { head: 2 }, d: { cicdVcsHash: 2 } };
    const first = await virtual('a 999ms b|', v, { completion: hashJoin(1000) }, kv);
    await first.clock.advanceTo(1000);
    await first.clock.stop(first.net);
    expect(first.out.frames.map((f) => (f.value as Record<string, unknown>)[S])).toEqual(['triggered', 'complete']);
    const never = await virtual('c 3600s d|', v, { completion: hashJoin(0) }, tracked(memoryStore()));
    await never.clock.advanceTo(3_600_001);
    await never.clock.stop(never.net);
    expect(never.out.frames.map((f) => (f.value as Record<string, unknown>)[S])).toEqual(['triggered', 'complete']);
    expect((never.out.frames[1].value as Record<string, { deadline: number }>)[ST].deadline).toBe(-1);
  });

  it('keeps joins of different values and partitions apart; three keys stay triggered until all came', async () => {
    const kv = tracked(memoryStore());
    const p = (id: string) => ({ 'internal:partitionID': id });
    const v = {
      a: { ...p('P1'), x: 'v' },
      b: { ...p('P2'), y: 'v' },
      c: { ...p('P1'), y: 'v' },
      d: { ...p('P1'), z: 'w' },
      e: { ...p('P1'), z: 'v' },
    };
    const { out, clock, net } = await virtual('abcde|', v, { completion: { joinKeys: ['x', 'y', 'z'] } }, kv);
    await clock.advanceTo(10);
    await clock.stop(net);
    expect(out.frames.map((f) => (f.value as Record<string, unknown>)[S])).toEqual([
      'triggered',
      'triggered',
      'triggered',
      'triggered',
      'complete',
    ]);
    expect(await kv.get('P2:join:c:v')).toBeDefined();
    expect(await kv.get('P1:join:c:v')).toBeUndefined();
  });

  it('passes events without a join key untouched and turns an unjoinable value into an error event', async () => {
    const kv = memoryStore();
    const out = await runNode(
      complete({ completion: hashJoin(), stateStore: kv }),
      [{ other: 1 }, { head: { deep: [] } }, { head: null }],
      'join',
    );
    expect(out[0].payload).toEqual({ other: 1 });
    expect(out[1].payload).toEqual({ head: { deep: [] } }); // not a leaf: no join key
    expect(out[2].error?.message).toBe('a join value must be a string, number or boolean, got null');
  });

  it('after a restart (no timer), state past its late window counts as gone', async () => {
    const kv = memoryStore();
    await kv.put('default:join:c:h', { value: 'h', resolved: { head: true, cicdVcsHash: false }, deadline: 5 });
    const t = new VirtualTime();
    t.scheduler.frame = 5000;
    const out = await runNode(complete({ completion: hashJoin(1000), stateStore: kv }), [{ cicdVcsHash: 'h' }], 'join', t.scheduler);
    expect((out[0].payload as Record<string, unknown>)[S]).toBe('triggered');
  });

  it('writes open joins with an expiry at the end of their late window, for a process that dies before its timer', async () => {
    let ttl: number | undefined;
    const inner = memoryStore();
    const spy: KeyValueStore = {
      ...inner,
      batch: (ops) => {
        for (const o of ops) if (o.op === 'put') ttl = o.ttlMs;
        return inner.batch(ops);
      },
    };
    await runNode(complete({ completion: hashJoin(1000), stateStore: spy }), [{ head: 'h' }], 'join');
    expect(ttl).toBe(2000);
  });

  it('two nodes sharing a store, fed the halves of many joins in parallel, complete each join exactly once', async () => {
    const kv = memoryStore();
    const n = 200;
    const heads = Array.from({ length: n }, (_, i) => ({ head: `h${i}` }));
    const hashes = Array.from({ length: n }, (_, i) => ({ cicdVcsHash: `h${i}` }));
    const [x, y] = await Promise.all([
      runNode(complete({ name: 'join', completion: hashJoin(0), stateStore: kv }), heads, 'j1'),
      runNode(complete({ name: 'join', completion: hashJoin(0), stateStore: kv }), hashes, 'j2'),
    ]);
    const statuses = [...x, ...y].map((e) => (e.payload as Record<string, unknown>)[S]);
    expect(statuses.filter((s) => s === 'complete')).toHaveLength(n);
    expect(statuses.filter((s) => s === 'triggered')).toHaveLength(n);
  });
});

describe('complete options: agglo Completer in protobuf JSON', () => {
  const bad = (o: Record<string, unknown>) => {
    try {
      complete(o as never);
    } catch (e) {
      expect(e).toBeInstanceOf(TributaryError);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };
  it('rejects unknown fields, an empty join and a negative timeout, naming the option', () => {
    expect(bad({ completion: { joinKeys: ['a'], timeout: 5 } })).toMatch(/completion.*unknown field 'timeout'.*did you mean 'timeoutMs'/);
    expect(bad({ completion: { joinKeys: [] } })).toMatch(/completion\.joinKeys/);
    expect(bad({ completion: { joinKeys: ['a'], timeoutMs: -1 } })).toMatch(/completion\.timeoutMs/);
    expect(bad({ completion: { joinKeys: ['a'], timeoutMs: 'soon' } })).toMatch(/completion\.timeoutMs/);
    expect(bad({ completion: { joinKeys: ['a'] }, stateStor: 'memory:' })).toMatch(/unknown option 'stateStor'/);
  });
  it("takes agglo's int64-as-string timeoutMs", async () => {
    const t = new VirtualTime();
    const kv = memoryStore();
    await runNode(complete({ completion: hashJoin('3600000'), stateStore: kv }), [{ head: 'h' }], 'join', t.scheduler);
    expect((await kv.get<{ deadline: number }>('default:join:c:h'))?.value.deadline).toBe(3_600_000);
  });
});

describe('complete condition (honoured: agglo ignores it)', () => {
  it('joins only events the condition holds for; the others pass untouched and resolve nothing', async () => {
    const kv = memoryStore();
    const condition = { expression: { comparator: { lhs: { variable: { name: 'state' } }, rhs: { literal: 'passed' }, op: 'Equal' } } };
    const node = complete({ condition, completion: hashJoin(0), stateStore: kv });
    const out = await runNode(
      node,
      [
        { head: 'd', state: 'passed' },
        { cicdVcsHash: 'd', state: 'failed' },
        { cicdVcsHash: 'd', state: 'passed' },
      ],
      'join',
    );
    expect(out.map((e) => (e.payload as Record<string, unknown>)[S])).toEqual(['triggered', undefined, 'complete']);
    expect(out[1].payload).toEqual({ cicdVcsHash: 'd', state: 'failed' });
  });
});

describe('complete lifecycle', () => {
  it('cancels its clean-up timers when unsubscribed early', async () => {
    const t = new VirtualTime();
    const node = complete({ completion: hashJoin(1000), stateStore: memoryStore() });
    if (node.role !== 'pipeline') throw new Error('pipeline');
    const input = new Subject<ReturnType<typeof createEvent>>();
    const out: unknown[] = [];
    const sub = node
      .create(createNodeContext('join', { scheduler: t.scheduler }))
      .call(undefined, input)
      .subscribe((e) => out.push(e.payload));
    input.next(createEvent({ head: 'h' }));
    while (out.length < 1) await new Promise((r) => setImmediate(r));
    expect(t.scheduler.actions).toHaveLength(1); // the clean-up at deadline + timeout
    sub.unsubscribe();
    expect(t.scheduler.actions.filter((a) => !a.closed)).toHaveLength(0);
  });
});
