// Checkpoints on virtual time: restore before the first event, write before ack, redeliveries
// not applied twice, a failed write retried, emitted payloads kept until acked.
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Observable, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createDelivery, createEvent, Network, nodes, type Event, type NodeSpec } from 'tributary';
import { VirtualClock } from 'tributary/testing';
import { memoryStore } from '../../lib/state/memory';
import { openStateStore } from '../../lib/state/open';
import { stateful } from '../../lib/state/stateful';
import { POSITION_HEADER, type BatchOp, type KeyValueStore } from '../../lib/state/types';

const quiet = { warn: () => undefined, error: () => undefined };
const settles = { idle: () => new Promise<void>((r) => setImmediate(r)) };

interface Input {
  at: number;
  payload: { k: string; n: number };
  /** `source#seq`: stamped as the event's position. */
  pos?: string;
  error?: boolean;
}

/** A source emitting `inputs` at their frames, each with a delivery whose settlement is logged. */
function source(scheduler: TestScheduler, inputs: Input[], log: string[], end?: number): NodeSpec {
  return {
    role: 'source',
    kind: 'test',
    create: (ctx) =>
      new Observable<Event>((sub) => {
        const timers = new Subscription();
        for (const i of inputs) {
          timers.add(
            scheduler.schedule(() => {
              const name = `${i.payload.k}${i.payload.n}`;
              const delivery = createDelivery((s) => log.push(`${s.acked ? 'ack' : 'nack'} ${name} @${scheduler.now()}`));
              const e = createEvent(i.payload, {
                time: scheduler.now(),
                delivery,
                ...(i.pos ? { headers: { [POSITION_HEADER]: i.pos } } : {}),
              });
              sub.next(i.error ? ctx.fail(e, new Error('upstream failed')) : e);
            }, i.at),
          );
        }
        if (end !== undefined) timers.add(scheduler.schedule(() => sub.complete(), end));
        return timers;
      }),
  };
}

/** A store that logs each committed batch (and can be told to fail the next ones). */
function recording(inner: KeyValueStore, log: string[], now: () => number): KeyValueStore & { failNext: number } {
  const store = {
    failNext: 0,
    url: inner.url,
    get: inner.get.bind(inner),
    put: inner.put.bind(inner),
    compareAndSet: inner.compareAndSet.bind(inner),
    delete: inner.delete.bind(inner),
    list: inner.list.bind(inner),
    close: inner.close.bind(inner),
    async batch(ops: BatchOp[]) {
      if (store.failNext > 0) {
        store.failNext--;
        log.push(`fail @${now()}`);
        throw new Error('disk full');
      }
      const ok = await inner.batch(ops);
      log.push(`commit @${now()}`);
      return ok;
    },
  };
  return store;
}

const sum = (emit = false) =>
  stateful({
    key: 'k',
    fn: (s: number | undefined, p: { k: string; n: number }) => ({
      state: (s ?? 0) + p.n,
      emit: emit ? { k: p.k, sum: (s ?? 0) + p.n } : undefined,
    }),
  });

/** Runs a network of source → stateful `sums` → sink on virtual time until `until`, then drains. */
async function runNet(
  store: KeyValueStore,
  inputs: Input[],
  options: { until: number; emit?: boolean; end?: number; holdOutputs?: boolean; interval?: string },
): Promise<{ log: string[]; out: unknown[]; net: Network }> {
  const s = new TestScheduler((a, b) => expect(a).toEqual(b));
  const log: string[] = [];
  const rec = recording(store, log, () => s.now());
  (runNet as { last?: typeof rec }).last = rec;
  const net = new Network({ scheduler: s, logger: quiet, state: { store: rec, checkpointInterval: options.interval ?? '1s' } });
  const out: unknown[] = [];
  net.add('in', source(s, inputs, log, options.end));
  net.add('sums', sum(options.emit));
  net.add('out', {
    role: 'sink',
    kind: 'test',
    create: (ctx) => (src) =>
      new Observable((sub) =>
        src.subscribe({
          next: (e) => {
            out.push(e.error ? { error: e.error.message } : e.payload);
            if (!options.holdOutputs) ctx.ack(e);
          },
          complete: () => sub.complete(),
        }),
      ),
  });
  net.link('in', 'sums');
  net.link('sums', 'out');
  const clock = new VirtualClock(s, settles);
  await clock.start(net);
  await clock.advanceTo(options.until);
  await clock.stop(net);
  return { log, out, net };
}

async function entries(store: KeyValueStore, prefix = ''): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const [k, v] of store.list(prefix)) out[k] = v.value;
  return out;
}

function sums(all: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(all)) if (k.startsWith('sums/k/')) out[k.slice(7)] = (v as { s: number }).s;
  return out;
}

describe('checkpoints', () => {
  it('acks an event only after a checkpoint holding its effect is committed', async () => {
    const store = memoryStore();
    const { log } = await runNet(
      store,
      [
        { at: 100, payload: { k: 'x', n: 1 } },
        { at: 200, payload: { k: 'y', n: 2 } },
        { at: 1500, payload: { k: 'x', n: 3 } },
      ],
      { until: 2500 },
    );
    expect(log).toEqual(['commit @1000', 'ack x1 @1000', 'ack y2 @1000', 'commit @2000', 'ack x3 @2000']);
    expect(sums(await entries(store))).toEqual({ x: 4, y: 2 });
  });

  it('writes a last checkpoint when the network stops, acking what waited for it', async () => {
    const store = memoryStore();
    const { log } = await runNet(store, [{ at: 100, payload: { k: 'x', n: 1 } }], { until: 500 });
    // stop() at 500 asks for a checkpoint at once; the last one at the end has nothing new.
    expect(log).toEqual(['commit @500', 'ack x1 @500']);
    expect(sums(await entries(store))).toEqual({ x: 1 });
  });

  it('restores the state before the first event of the next run', async () => {
    const store = memoryStore();
    await runNet(store, [{ at: 10, payload: { k: 'x', n: 5 } }], { until: 100 });
    const { out } = await runNet(store, [{ at: 0, payload: { k: 'x', n: 1 } }], { until: 100, emit: true });
    expect(out).toEqual([{ k: 'x', sum: 6 }]);
  });

  it('does not apply again a redelivered event the checkpoint includes, and acks it after the next checkpoint', async () => {
    const store = memoryStore();
    await runNet(
      store,
      [
        { at: 10, payload: { k: 'x', n: 1 }, pos: 'nats:S#1' },
        { at: 20, payload: { k: 'x', n: 2 }, pos: 'nats:S#2' },
        { at: 30, payload: { k: 'y', n: 4 }, pos: 'nats:S#3' },
      ],
      { until: 100 },
    );
    // As after a crash that lost the acks of 2 and 3: they come again, then a new one.
    const { log, net } = await runNet(
      store,
      [
        { at: 10, payload: { k: 'x', n: 2 }, pos: 'nats:S#2' },
        { at: 20, payload: { k: 'y', n: 4 }, pos: 'nats:S#3' },
        { at: 30, payload: { k: 'x', n: 8 }, pos: 'nats:S#4' },
        { at: 40, payload: { k: 'y', n: 16 }, pos: 'other:T#1' },
      ],
      { until: 1000 },
    );
    expect(sums(await entries(store))).toEqual({ x: 11, y: 20 });
    expect(log).toEqual(['commit @1000', 'ack x2 @1000', 'ack y4 @1000', 'ack x8 @1000', 'ack y16 @1000']);
    expect(net.checkpointStats()).toMatchObject({ duplicates: 2, written: 1, failed: 0, pending: 0 });
    expect((await store.get('sums#positions'))?.value).toEqual({ high: { 'nats:S': 4, 'other:T': 1 } });
  });

  it('applies a redelivery of an event that passed the node as an error, though later ones were applied', async () => {
    const store = memoryStore();
    const { out } = await runNet(
      store,
      [
        { at: 10, payload: { k: 'x', n: 1 }, pos: 'nats:S#5', error: true },
        { at: 20, payload: { k: 'x', n: 2 }, pos: 'nats:S#6' },
        { at: 30, payload: { k: 'x', n: 1 }, pos: 'nats:S#5' },
        { at: 40, payload: { k: 'x', n: 2 }, pos: 'nats:S#6' },
      ],
      { until: 100, emit: true },
    );
    expect(out).toEqual([{ error: 'upstream failed' }, { k: 'x', sum: 2 }, { k: 'x', sum: 3 }]);
    expect(sums(await entries(store))).toEqual({ x: 3 });
  });

  it('retries a failed checkpoint at the next one; its events wait and are acked then', async () => {
    const store = memoryStore();
    const log: string[] = [];
    const sch = new TestScheduler((a, b) => expect(a).toEqual(b));
    const rec = recording(store, log, () => sch.now());
    rec.failNext = 1;
    const errors: string[] = [];
    const net = new Network({
      scheduler: sch,
      logger: { warn: () => undefined, error: (m) => void errors.push(m) },
      state: { store: rec },
    });
    net.add(
      'in',
      source(
        sch,
        [
          { at: 100, payload: { k: 'x', n: 1 } },
          { at: 1200, payload: { k: 'x', n: 2 } },
        ],
        log,
      ),
    );
    net.add('sums', sum());
    net.add('out', nodes.discarder());
    net.link('in', 'sums');
    net.link('sums', 'out');
    const clock = new VirtualClock(sch, settles);
    await clock.start(net);
    await clock.advanceTo(2500);
    expect(log).toEqual(['fail @1000', 'commit @2000', 'ack x1 @2000', 'ack x2 @2000']);
    expect(errors[0]).toMatch(/checkpoint to memory: failed \(disk full\); retrying at the next one, 1 events wait for it/);
    expect(net.checkpointStats()).toMatchObject({ failed: 1, written: 1 });
    expect(sums(await entries(store))).toEqual({ x: 3 });
    await clock.stop(net);
  });

  it('nacks what waits when the last checkpoint fails', async () => {
    const log: string[] = [];
    const sch = new TestScheduler((a, b) => expect(a).toEqual(b));
    const rec = recording(memoryStore(), log, () => sch.now());
    rec.failNext = 5;
    const net = new Network({ scheduler: sch, logger: quiet, state: { store: rec } });
    net.add('in', source(sch, [{ at: 100, payload: { k: 'x', n: 1 } }], log, 200));
    net.add('sums', sum());
    net.add('out', nodes.discarder());
    net.link('in', 'sums');
    net.link('sums', 'out');
    const clock = new VirtualClock(sch, settles);
    await clock.start(net);
    await clock.advanceTo(300);
    await net.done();
    expect(log).toEqual(['fail @200', 'nack x1 @200']);
  });

  it('keeps an emitted payload until its event is acked, and sends it again after a restart', async () => {
    const store = memoryStore();
    const first = await runNet(store, [{ at: 10, payload: { k: 'x', n: 1 } }], { until: 1000, emit: true, holdOutputs: true });
    expect(first.out).toEqual([{ k: 'x', sum: 1 }]);
    // The state and the outbox entry were checkpointed, but the emitted event was never acked:
    // its input is not acked either.
    expect(first.log).toEqual(['commit @1000']);
    const outbox = Object.keys(await entries(store, 'sums/o/'));
    expect(outbox).toHaveLength(1);
    const second = await runNet(store, [{ at: 10, payload: { k: 'x', n: 1 } }], { until: 1000, emit: true });
    expect(second.out).toEqual([
      { k: 'x', sum: 1 },
      { k: 'x', sum: 2 },
    ]);
    expect(await entries(store, 'sums/o/')).toEqual({});
  });

  it('needs the state loaded before startSync, and refuses bad state options', async () => {
    const sch = new TestScheduler(() => undefined);
    const net = new Network({ scheduler: sch, logger: quiet, state: { store: memoryStore() } });
    net.add('in', nodes.from({ items: [{ k: 'a', n: 1 }] }));
    net.add('sums', sum());
    net.add('out', nodes.discarder());
    net.link('in', 'sums');
    net.link('sums', 'out');
    expect(() => net.startSync()).toThrow(/state is not loaded yet: use await net.start\(\), or await net.restoreState\(\)/);
    expect(() => new Network({ state: { store: {} as KeyValueStore } })).toThrow(/'state.store' must be a KeyValueStore/);
    expect(() => new Network({ state: { store: memoryStore(), checkpointIntervall: '1s' } as never })).toThrow(
      /unknown option 'state.checkpointIntervall'/,
    );
    expect(() => new Network({ state: { store: memoryStore(), maxPending: 0 } })).toThrow(/'state.maxPending' must be a whole number/);
  });

  it('checkpoints early once maxPending events wait', async () => {
    const store = memoryStore();
    const sch = new TestScheduler((a, b) => expect(a).toEqual(b));
    const log: string[] = [];
    const net = new Network({
      scheduler: sch,
      logger: quiet,
      state: { store: recording(store, log, () => sch.now()), checkpointInterval: '10s', maxPending: 2 },
    });
    net.add(
      'in',
      source(
        sch,
        [1, 2, 3].map((n) => ({ at: n * 10, payload: { k: 'x', n } })),
        log,
      ),
    );
    net.add('sums', sum());
    net.add('out', nodes.discarder());
    net.link('in', 'sums');
    net.link('sums', 'out');
    const clock = new VirtualClock(sch, settles);
    await clock.start(net);
    await clock.advanceTo(100);
    expect(log).toEqual(['commit @20', 'ack x1 @20', 'ack x2 @20']);
    await clock.stop(net);
  });
});

describe('checkpoints on a SQLite file', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tb-cp-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('restores keyed state from the file in a new process-like run (new store, new network)', async () => {
    const url = `sqlite:${join(dir, 'state.db')}`;
    const a = await openStateStore(url);
    await runNet(
      a,
      [
        { at: 10, payload: { k: 'x', n: 5 }, pos: 'nats:S#1' },
        { at: 20, payload: { k: 'y', n: 7 }, pos: 'nats:S#2' },
      ],
      { until: 1000 },
    );
    await a.close();
    const b = await openStateStore(url);
    const { out } = await runNet(
      b,
      [
        { at: 10, payload: { k: 'y', n: 7 }, pos: 'nats:S#2' },
        { at: 20, payload: { k: 'x', n: 1 }, pos: 'nats:S#3' },
      ],
      { until: 1000, emit: true },
    );
    expect(out).toEqual([{ k: 'x', sum: 6 }]);
    expect(sums(await entries(b))).toEqual({ x: 6, y: 7 });
    await b.close();
  });
});
