import type { Observable, Subscription } from 'rxjs';
import { live$, reliable$, type EventReceipt, type EventStore } from '../../lib/eventstore';
import { drivers } from './helpers';

/** Collects receipts; `next(n)` resolves once n receipts (in total) arrived. */
function collect(source: Observable<EventReceipt>) {
  const got: EventReceipt[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  const sub: Subscription = source.subscribe((r) => {
    got.push(r);
    waiters = waiters.filter((w) => (got.length >= w.n ? (w.resolve(), false) : true));
  });
  const upTo = (n: number) => (got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })));
  return { got, upTo, sub, data: () => got.map((r) => r.event.data) };
}

/** Resolves once the consumer's stored pointer reached `id`. */
async function pointerAt(store: EventStore, component: string, id: string): Promise<void> {
  for (;;) {
    const c = (await store.consumers()).find((x) => x.component === component);
    if (c && BigInt(c.lastId) >= BigInt(id)) return;
    await new Promise((r) => setImmediate(r));
  }
}

const add = (store: EventStore, from: number, to: number) =>
  store.addEvents(Array.from({ length: to - from + 1 }, (_, i) => ({ type: 'N', data: from + i })));

describe.each(drivers)('reliable$ and live$ on $name', (driver) => {
  it('reliable$ replays from the stored pointer, then follows new events', async () => {
    const { store } = await driver.open();
    await store.registerConsumer('r');
    await add(store, 1, 3);
    const first = await store.poll('r');
    await store.ack('r', first[0].id); // 1 done before
    const c = collect(reliable$(store, 'r', { pollInterval: 10_000 }));
    await c.upTo(2);
    expect(c.data()).toEqual([2, 3]);
    c.got.forEach((r) => r.ack());
    await add(store, 4, 4); // a local commit wakes the consumer
    await c.upTo(3);
    expect(c.data()).toEqual([2, 3, 4]);
    c.got[2].ack();
    await pointerAt(store, 'r', c.got[2].event.id);
    c.sub.unsubscribe();
  });

  it('reliable$ keeps one batch in flight and records the pointer only after acks', async () => {
    const { store } = await driver.open();
    await add(store, 1, 5);
    const c = collect(reliable$(store, 'b', { limit: 2, pollInterval: 10_000 }));
    await c.upTo(2);
    await store.sequence();
    expect(c.data()).toEqual([1, 2]);
    // Nothing acked: the pointer stays at 0 and no further batch comes.
    expect((await store.consumers()).find((x) => x.component === 'b')?.lastId).toBe('0');
    await store.poll('LIVE'); // a round trip: the consumer had every chance to poll again
    expect(c.got).toHaveLength(2);
    c.got[0].ack();
    c.got[1].ack();
    await c.upTo(4);
    expect(c.data()).toEqual([1, 2, 3, 4]);
    await pointerAt(store, 'b', c.got[1].event.id);
    c.sub.unsubscribe();
  });

  it('reliable$ delivers a nacked batch again from the first nacked event', async () => {
    const { store } = await driver.open();
    await add(store, 1, 3);
    const c = collect(reliable$(store, 'n', { retryDelay: 0, pollInterval: 10_000, onError: () => undefined }));
    await c.upTo(3);
    c.got[0].ack();
    c.got[1].nack(new Error('downstream down'));
    c.got[2].ack();
    await c.upTo(5);
    expect(c.data()).toEqual([1, 2, 3, 2, 3]);
    await pointerAt(store, 'n', c.got[0].event.id);
    c.got[3].ack();
    c.got[4].ack();
    await pointerAt(store, 'n', c.got[4].event.id);
    c.sub.unsubscribe();
  });

  it('reliable$ with want delivers only those types and moves past the others', async () => {
    const { store } = await driver.open();
    await store.addEvents([
      { type: 'A', data: 1 },
      { type: 'B', data: 2 },
      { type: 'A', data: 3 },
    ]);
    const c = collect(reliable$(store, 'w', { want: ['B'], pollInterval: 10_000 }));
    await c.upTo(1);
    expect(c.data()).toEqual([2]);
    c.got[0].ack();
    const all = await store.poll('LIVE');
    await pointerAt(store, 'w', all[2].id);
    c.sub.unsubscribe();
  });

  it('unsubscribing records the acked prefix; a restart resumes after it', async () => {
    const t = await driver.open();
    await add(t.store, 1, 4);
    const c = collect(reliable$(t.store, 'u', { pollInterval: 10_000 }));
    await c.upTo(4);
    c.got[0].ack();
    c.got[1].ack();
    c.sub.unsubscribe();
    await pointerAt(t.store, 'u', c.got[1].event.id);
    const again = collect(reliable$(await t.reopen(), 'u', { pollInterval: 10_000 }));
    await again.upTo(2);
    expect(again.data()).toEqual([3, 4]);
    again.sub.unsubscribe();
  });

  it('live$ delivers only events committed after it subscribed', async () => {
    const { store } = await driver.open();
    await add(store, 1, 2);
    let started!: (p: string) => void;
    const start = new Promise<string>((r) => (started = r));
    const c = collect(live$(store, { pollInterval: 10_000, onStart: started }));
    const position = await start;
    expect(position).toBe((await store.poll('LIVE')).at(-1)!.id);
    await add(store, 3, 4);
    await c.upTo(2);
    expect(c.data()).toEqual([3, 4]);
    expect(c.got.map((r) => r.dropped)).toEqual([0, 0]);
    c.sub.unsubscribe();
  });

  it('live$ drops the oldest waiting events on overflow and shows the gap', async () => {
    const { store } = await driver.open();
    await add(store, 1, 6);
    // One poll brings 1..6: 1 is emitted, 2..6 wait in a queue of two that keeps the newest.
    const c = collect(live$(store, { maxInFlight: 1, queue: 2, pollInterval: 10_000, from: '0' }));
    await c.upTo(1);
    c.got[0].ack();
    await c.upTo(2);
    c.got[1].ack();
    await c.upTo(3);
    expect(c.data()).toEqual([1, 5, 6]);
    expect(c.got.map((r) => r.dropped)).toEqual([0, 3, 0]);
    expect(BigInt(c.got[1].event.id) - BigInt(c.got[0].event.id)).toBe(4n); // the ids show the gap too
    c.sub.unsubscribe();
  });
});
