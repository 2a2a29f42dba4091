// Fencing a stale partition owner (docs/scale-out.md): the fence key, claimed with a newer lease
// epoch, makes the stale owner's checkpoints fail as a whole; its events are never acked.
import { Observable, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createDelivery, createEvent, Network, type Event, type NodeSpec } from 'tributary';
import { VirtualClock } from 'tributary/testing';
import { claimFence, fenceKey } from '../../lib/cluster/fence';
import { TributaryError } from '../../lib/errors';
import { memoryStore } from '../../lib/state/memory';
import { stateful } from '../../lib/state/stateful';
import { POSITION_HEADER, type KeyValueStore } from '../../lib/state/types';

const settles = { idle: () => new Promise<void>((r) => setImmediate(r)) };

/** A source emitting `{k, n}` events at the given frames, logging each settlement. */
function source(scheduler: TestScheduler, inputs: Array<{ at: number; k: string; n: number }>, log: string[]): NodeSpec {
  return {
    role: 'source',
    kind: 'test',
    create: () =>
      new Observable<Event>((sub) => {
        const timers = new Subscription();
        for (const [i, x] of inputs.entries()) {
          timers.add(
            scheduler.schedule(() => {
              const delivery = createDelivery((s) => log.push(`${s.acked ? 'ack' : 'nack'} ${x.k}${x.n}`));
              sub.next(createEvent({ k: x.k, n: x.n }, { time: scheduler.now(), delivery, headers: { [POSITION_HEADER]: `t#${i + 1}` } }));
            }, x.at),
          );
        }
        return timers;
      }),
  };
}

function network(
  s: TestScheduler,
  store: KeyValueStore,
  fence: { key: string; version: number; onFenced?: () => void },
  log: string[],
  errors: string[],
) {
  const net = new Network({
    scheduler: s,
    logger: { warn: () => undefined, error: (m: string) => errors.push(m) },
    state: { store, namespace: 'p3/', checkpointInterval: '1s', fence },
  });
  net.add(
    'in',
    source(
      s,
      [
        { at: 100, k: 'a', n: 1 },
        { at: 200, k: 'b', n: 2 },
        { at: 1500, k: 'a', n: 10 },
        { at: 2500, k: 'b', n: 20 },
      ],
      log,
    ),
  );
  net.add('sums', stateful({ key: 'k', fn: (acc: number | undefined, p: { n: number }) => ({ state: (acc ?? 0) + p.n }) }));
  net.add('out', { role: 'sink', kind: 'test', create: () => (src) => src as Observable<never> });
  net.link('in', 'sums');
  net.link('sums', 'out');
  return net;
}

describe('partition fence', () => {
  it('refuses a stale owner’s checkpoint once a newer epoch claimed the fence: onFenced once, its events never acked', async () => {
    const store = memoryStore();
    const key = fenceKey('p3/');
    const { version } = await claimFence(store, key, 7);
    expect(version).toBe(1);
    const s = new TestScheduler((a, b) => expect(a).toEqual(b));
    const log: string[] = [];
    const errors: string[] = [];
    let fenced = 0;
    const net = network(s, store, { key, version, onFenced: () => fenced++ }, log, errors);
    const clock = new VirtualClock(s, settles);
    await clock.start(net);
    await clock.advanceTo(1200);
    // The first checkpoint (at 1000) passed the fence: a1 and b2 are committed and acked.
    expect(log).toEqual(['ack a1', 'ack b2']);
    // A new owner takes the partition over with a newer lease.
    expect(await claimFence(store, key, 9)).toEqual({ version: 2 });
    await clock.advanceTo(4000);
    expect(fenced).toBe(1);
    expect(errors.filter((e) => e.includes(`partition fence '${key}'`))).toHaveLength(1);
    await clock.stop(net);
    // a10 and b20 were absorbed by the stale owner but never acked (nacked at its stop: redelivered).
    expect(log).toEqual(['ack a1', 'ack b2', 'nack a10', 'nack b20']);
    // Nothing the stale owner did after the takeover reached the store.
    const stored: Record<string, unknown> = {};
    for await (const [k, v] of store.list('p3/sums/')) stored[k] = v.value;
    expect(
      Object.values(stored)
        .map((v) => (v as { s: number }).s)
        .sort(),
    ).toEqual([1, 2]);
    expect((await store.get(key))?.value).toEqual({ epoch: 9 });
  });

  it('an owner whose fence still holds checkpoints and acks everything', async () => {
    const store = memoryStore();
    const key = fenceKey('p3/');
    const { version } = await claimFence(store, key, 3);
    const s = new TestScheduler((a, b) => expect(a).toEqual(b));
    const log: string[] = [];
    let fenced = 0;
    const net = network(s, store, { key, version, onFenced: () => fenced++ }, log, []);
    const clock = new VirtualClock(s, settles);
    await clock.start(net);
    await clock.advanceTo(4000);
    await clock.stop(net);
    expect(fenced).toBe(0);
    expect(log).toEqual(['ack a1', 'ack b2', 'ack a10', 'ack b20']);
  });

  it('claimFence refuses an epoch older than the one held, naming the fence', async () => {
    const store = memoryStore();
    await claimFence(store, 'bets/p5/#fence', 12);
    await expect(claimFence(store, 'bets/p5/#fence', 11)).rejects.toThrow(TributaryError);
    await expect(claimFence(store, 'bets/p5/#fence', 11)).rejects.toThrow(
      /'bets\/p5\/#fence' is held at epoch 12, newer than this owner's 11/,
    );
    // The same epoch again (a restart of the same owner) and newer ones are fine.
    expect(await claimFence(store, 'bets/p5/#fence', 12)).toEqual({ version: 2 });
    expect(await claimFence(store, 'bets/p5/#fence', 40)).toEqual({ version: 3 });
  });

  it('rejects a malformed state.fence option naming it', () => {
    const store = memoryStore();
    expect(() => new Network({ state: { store, fence: { key: '', version: 1 } } })).toThrow(/state\.fence\.key/);
    expect(() => new Network({ state: { store, fence: { key: 'f', version: 0 } } })).toThrow(/state\.fence\.version/);
  });
});
