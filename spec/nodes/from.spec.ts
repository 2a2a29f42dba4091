import { lastValueFrom, Observable, take, toArray } from 'rxjs';
import { createEvent, Network, nodes, TributaryError, type Event, type Settlement } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { probeContext, sourceOf, testScheduler, ticks, view, viewAll } from './support';

function collect(source: Observable<Event>): Promise<Event[]> {
  return lastValueFrom(source.pipe(toArray()));
}

describe('from', () => {
  it('an empty list completes at once without events', () => {
    const t = testScheduler();
    t.run(({ expectObservable }) => {
      expectObservable(sourceOf(nodes.from({ items: [] }), probeContext('numbers', t))).toBe('|');
    });
  });

  it('emits one and many list items at subscription, stamped with the scheduler time, then completes', () => {
    const t = testScheduler();
    const seen: Event[] = [];
    t.run(({ expectObservable, cold }) => {
      const src = sourceOf(nodes.from({ items: [1, 2, 3] }), probeContext('numbers', t));
      expectObservable(src.pipe(viewAll), '5ms ^').toBe('5ms (abc|)', { a: 1, b: 2, c: 3 });
      cold('--x|').subscribe(() => src.subscribe((e) => seen.push(e)));
    });
    expect(seen.map((e) => e.meta.time)).toEqual([2, 2, 2]);
    expect(sourceOf(nodes.from({ items: ['only'] }), probeContext('x'))).toBeInstanceOf(Observable);
  });

  it('passes items that already are events as they are', async () => {
    const e = createEvent('ready-made', { key: 'k' });
    const out = await collect(sourceOf(nodes.from({ items: [e, 'plain'] }), probeContext('x')));
    expect(out[0]).toBe(e);
    expect(out[1].payload).toBe('plain');
  });

  it('pulls any iterable and stops pulling an endless one on early unsubscribe', async () => {
    let pulled = 0;
    function* naturals() {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    }
    const out = await lastValueFrom(sourceOf(nodes.from({ items: naturals() }), probeContext('x')).pipe(take(3), toArray()));
    expect(out.map(view)).toEqual([0, 1, 2]);
    expect(pulled).toBeLessThanOrEqual(4);
  });

  it('emits the items of an async iterable, then completes', async () => {
    async function* bets() {
      yield { stake: 5 };
      await ticks(2);
      yield { stake: 100 };
    }
    const out = await collect(sourceOf(nodes.from({ items: bets() }), probeContext('x')));
    expect(out.map(view)).toEqual([{ stake: 5 }, { stake: 100 }]);
  });

  it('takes an Observable as it comes: marbles, errors of the Observable, never-ending and early unsubscribe', () => {
    const t = testScheduler();
    t.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-a-b-c-', { a: 1, b: 2, c: 3 });
      const src = sourceOf(nodes.from({ items: input }), probeContext('x', t));
      expectObservable(src.pipe(viewAll), '^--!').toBe('-a-', { a: 1 });
      expectSubscriptions(input.subscriptions).toBe('^--!');
      const finite = sourceOf(nodes.from({ items: cold('-a|', { a: 'x' }) }), probeContext('y', t));
      expectObservable(finite.pipe(viewAll)).toBe('-a|', { a: 'x' });
    });
  });

  it('with maxInFlight, emits no more than that many unsettled events and resumes as they settle', async () => {
    const settled: [unknown, Settlement][] = [];
    const seen: Event[] = [];
    let completed = false;
    const src = sourceOf(
      nodes.from({ items: [1, 2, 3, 4, 5], maxInFlight: 2, onSettle: (e, s) => settled.push([e.payload, s]) }),
      probeContext('x'),
    );
    src.subscribe({ next: (e) => seen.push(e), complete: () => (completed = true) });
    await ticks(10);
    expect(seen.map(view)).toEqual([1, 2]);
    seen[0].delivery!.ack();
    await ticks(10);
    expect(seen.map(view)).toEqual([1, 2, 3]);
    seen[1].delivery!.nack('bad');
    seen[2].delivery!.ack();
    await ticks(10);
    expect(seen.map(view)).toEqual([1, 2, 3, 4, 5]);
    seen[3].delivery!.ack();
    seen[4].delivery!.ack();
    seen[4].delivery!.ack();
    await ticks(10);
    expect(completed).toBe(true);
    expect(settled).toEqual([
      [1, { acked: true }],
      [2, { acked: false, reason: 'bad' }],
      [3, { acked: true }],
      [4, { acked: true }],
      [5, { acked: true }],
    ]);
  });

  it("keeps event items' payload and metadata on the flow-controlled path (they were wrapped whole as a payload)", async () => {
    const e = createEvent('ready-made', { key: 'k', time: 77 });
    async function* one() {
      yield e;
    }
    for (const node of [nodes.from({ items: [e], onSettle: () => undefined }), nodes.from({ items: one() })]) {
      const out = await collect(sourceOf(node, probeContext('x')));
      expect(out[0].payload).toBe('ready-made');
      expect(out[0].meta).toMatchObject({ id: e.meta.id, key: 'k', time: 77 });
    }
  });

  it('rejects items that are not a list, an iterable or an Observable, and a bad maxInFlight', () => {
    expect(() => nodes.from({ items: 5 as never })).toThrow(TributaryError);
    expect(() => nodes.from({ items: 5 as never })).toThrow(
      /node kind 'from': option 'items' must be an Observable, a list or an \(async\) iterable/,
    );
    expect(() => nodes.from({ items: [], maxInFlight: 0 })).toThrow(/node kind 'from': option 'maxInFlight' must be at least 1/);
    expect(() => (nodes.from as (o?: object) => unknown)({})).toThrow(/node kind 'from': option 'items' is required/);
  });

  it('refuses maxInFlight with an Observable, which it cannot hold back, instead of ignoring it', () => {
    const message = /node kind 'from': option 'maxInFlight' cannot apply to an Observable, which pushes its items as they come/;
    expect(() => nodes.from({ items: new Observable(), maxInFlight: 4 })).toThrow(message);
    const net = new Network();
    expect(() => net.create('from', 'clicks', { items: new Observable(), maxInFlight: 4 })).toThrow(/node 'clicks'/);
    expect(net.exists('clicks')).toBe(false);
    expect(() => nodes.from({ items: new Observable() })).not.toThrow();
    expect(() => nodes.from({ items: [1], maxInFlight: 4 })).not.toThrow();
  });

  it('says which item of a Lua list was nil, in Lua terms, instead of rejecting the table as not a list', () => {
    const runtime = new LuaRuntime(new Network());
    try {
      expect(() => runtime.runString(`require('tributary').create_from("nums", { 1, nil, 3 })`, 'list.lua')).toThrow(
        "list.lua:1: node 'nums': node kind 'from': option 'items': item 2 is nil; a Lua list cannot hold nil — use a sentinel such as false",
      );
      expect(() => runtime.runString(`require('tributary').create_from("first", { nil, 2 })`, 'list.lua')).toThrow(
        /option 'items': item 1 is nil;/,
      );
      expect(runtime.network.exists('nums')).toBe(false);
      // A trailing nil is not in the table at all: the list is just shorter.
      runtime.runString(`require('tributary').create_from("short", { 1, 2, nil })`, 'list.lua');
      expect(runtime.network.exists('short')).toBe(true);
    } finally {
      runtime.close();
    }
    expect(() => nodes.from({ items: { 1: 'a', 3: 'c' } as never })).toThrow(/option 'items': item 2 is nil;/);
    expect(() => nodes.from({ items: { a: 1 } as never })).toThrow(/option 'items' must be an Observable, a list or an \(async\) iterable/);
  });
});
