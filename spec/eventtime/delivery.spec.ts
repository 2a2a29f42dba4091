/**
 * Nothing is acked before its work is done: without checkpoints an absorbed event's delivery
 * travels with the results that include it; with checkpoints (`ctx.registerState`) the
 * checkpoint settles it and the window state survives a restart through takeChanges/restore.
 */
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createNodeContext, CUT_OFF, type Event, type NodeContext, type NodeSpec } from 'tributary';
import type { StateHandle } from '../../lib/nodes/types';
import type { Checkpointable } from '../../lib/state/types';
import { DeliveryProbe } from 'tributary/testing';
import { eventtime } from '../../lib/eventtime';
import { bet, res } from './support';

/** A context without checkpoint support (`registerState` absent), as for a node run on its own. */
function standalone(scheduler: TestScheduler): NodeContext {
  return Object.assign(createNodeContext('w', { scheduler }), { registerState: undefined });
}

/** Runs a node on a subject: push payloads (with watched deliveries), read what came out. */
function harness(node: NodeSpec, ctx?: NodeContext) {
  const scheduler = new TestScheduler(() => undefined);
  const probe = new DeliveryProbe<unknown>(scheduler);
  const input = new Subject<Event>();
  const out: Event[] = [];
  if (node.role !== 'pipeline') throw new Error('pipeline');
  const sub = node
    .create(ctx ?? standalone(scheduler))(input)
    .subscribe((e) => out.push(e));
  return {
    probe,
    out,
    sub,
    send: (...payloads: unknown[]) => payloads.forEach((p) => input.next(probe.event(p))),
    end: () => input.complete(),
    settled: () => probe.log.map((s) => [(s.payload as { t: number }).t, s.acked]),
  };
}

describe('deliveries without checkpoints', () => {
  it('tumbling: absorbed events are acked when the window result that holds them is acked, not before', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't' }));
    h.send(bet(1), bet(2), bet(12));
    expect(h.out.map((e) => e.payload)).toEqual([res(null, 0, 10, 2)]);
    expect(h.probe.log).toEqual([]);
    h.out[0].delivery!.ack();
    expect(h.settled()).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(h.probe.pending()).toEqual([bet(12)]);
  });

  it('hopping: an event in two windows is acked once both results are', () => {
    const h = harness(eventtime.hoppingWindow({ size: 10, advance: 5, timeField: 't' }));
    h.send(bet(7), bet(30));
    const [first, second] = h.out;
    expect([first.payload, second.payload]).toEqual([res(null, 0, 10, 1), res(null, 5, 15, 1)]);
    first.delivery!.ack();
    expect(h.probe.log).toEqual([]);
    second.delivery!.ack();
    expect(h.settled()).toEqual([[7, true]]);
  });

  it('a nacked result nacks the events it holds', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't' }));
    h.send(bet(1), bet(12));
    h.out[0].delivery!.nack('sink down');
    expect(h.settled()).toEqual([[1, false]]);
  });

  it('a late event keeps its own delivery on the late-event error', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't' }));
    h.send(bet(12), bet(3));
    expect(h.out[0].error?.message).toMatch(/^late event: event time 3 is behind the watermark 12/);
    h.out[0].delivery!.ack();
    expect(h.settled()).toEqual([[3, true]]);
  });

  it('emit update: each update carries the delivery of the event that caused it', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't', emit: 'update' }));
    h.send(bet(1), bet(2));
    h.out[1].delivery!.ack();
    expect(h.settled()).toEqual([[2, true]]);
  });

  it('sliding: an event is acked with its own result', () => {
    const h = harness(eventtime.slidingWindow({ duration: 10, timeField: 't' }));
    h.send(bet(1), bet(5));
    expect(h.out.map((e) => e.payload)).toEqual([res(null, -9, 1, 1)]);
    h.out[0].delivery!.ack();
    expect(h.settled()).toEqual([[1, true]]);
  });

  it('session merge: the merged result holds the deliveries of both sessions', () => {
    const h = harness(eventtime.sessionWindow({ gap: 5, timeField: 't', maxOutOfOrderness: 50 }));
    h.send(bet(1), bet(9), bet(5));
    h.end();
    expect(h.out.map((e) => e.payload)).toEqual([res(null, 1, 14, 3)]);
    h.out[0].delivery!.ack();
    expect(h.settled()).toEqual([
      [1, true],
      [9, true],
      [5, true],
    ]);
  });

  it('cut off (unsubscribed) before a window fired: its held events are nacked, never lost', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'k' }));
    h.send(bet(1), bet(2, 'y'));
    h.sub.unsubscribe();
    expect(h.probe.log.map((s) => [s.acked, s.reason])).toEqual([
      [false, CUT_OFF],
      [false, CUT_OFF],
    ]);
  });
});

/**
 * A context whose registerState hands the state to the test, like a checkpoint coordinator
 * would; its handle refuses (`admit` false) payloads marked `redelivered` and records skips.
 */
function checkpointed(scheduler: TestScheduler, restoreFrom?: Map<string, unknown>) {
  const holder: { state?: Checkpointable; settled: Event[]; skipped: Event[] } = { settled: [], skipped: [] };
  const ctx = createNodeContext('w', { scheduler });
  const registerState = (state: Checkpointable): StateHandle & { admit(e: Event): boolean; skipped(e: Event): void } => {
    holder.state = state;
    if (restoreFrom) state.restore(restoreFrom.entries());
    return {
      settleAfterCheckpoint: (e) => void holder.settled.push(e),
      admit: (e) => !(e.payload as { redelivered?: boolean }).redelivered,
      skipped: (e) => void holder.skipped.push(e),
    };
  };
  return { ctx: Object.assign(ctx, { registerState }), holder };
}

/** Applies changes to a store the way a checkpoint would. */
function save(store: Map<string, unknown>, state: Checkpointable) {
  const { put, delete: gone } = state.takeChanges();
  for (const k of gone) store.delete(k);
  // Through JSON, as a real store keeps them.
  for (const [k, v] of put) store.set(k, JSON.parse(JSON.stringify(v)));
}

describe('with checkpoints (ctx.registerState)', () => {
  it('absorbed events go to settleAfterCheckpoint; results carry no delivery; late events keep theirs', () => {
    const scheduler = new TestScheduler(() => undefined);
    const { ctx, holder } = checkpointed(scheduler);
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't' }), ctx);
    h.send(bet(1), bet(12), bet(2));
    expect(holder.settled.map((e) => e.payload)).toEqual([bet(1), bet(12)]);
    expect(h.out.map((e) => [e.payload, e.delivery])).toEqual([
      [res(null, 0, 10, 1), undefined],
      [expect.anything(), expect.anything()],
    ]);
    expect(h.out[1].error?.message).toMatch(/^late event/);
  });

  it('a redelivery the restored state already includes (admit false) is settled without counting again; late events are reported skipped', () => {
    const scheduler = new TestScheduler(() => undefined);
    const { ctx, holder } = checkpointed(scheduler);
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't' }), ctx);
    const again = { ...bet(2), redelivered: true };
    h.send(bet(1), again, bet(12), bet(3));
    h.end();
    expect(h.out.map((e) => e.error?.message.slice(0, 10) ?? e.payload)).toEqual([res(null, 0, 10, 1), 'late event', res(null, 10, 20, 1)]);
    expect(holder.settled.map((e) => e.payload)).toEqual([bet(1), again, bet(12)]);
    expect(holder.skipped.map((e) => e.payload)).toEqual([bet(3)]);
  });

  const bets = Array.from({ length: 60 }, (_, i) => bet(i * 3 + ((i * 7) % 11), `k${i % 3}`, i));
  it.each<[string, () => NodeSpec]>([
    [
      'tumbling',
      () => eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'k', aggregate: 'sum', field: 'v', maxOutOfOrderness: 8 }),
    ],
    [
      'hopping',
      () => eventtime.hoppingWindow({ size: 20, advance: 5, timeField: 't', key: 'k', maxOutOfOrderness: 8, allowedLateness: 5 }),
    ],
    [
      'session',
      () => eventtime.sessionWindow({ gap: 4, timeField: 't', key: 'k', aggregate: 'collect', field: 'v', maxOutOfOrderness: 8 }),
    ],
    [
      'sliding',
      () => eventtime.slidingWindow({ duration: 15, timeField: 't', key: 'k', aggregate: 'max', field: 'v', maxOutOfOrderness: 8 }),
    ],
    [
      'sliding by count',
      () => eventtime.slidingWindow({ count: 4, timeField: 't', key: 'k', aggregate: 'avg', field: 'v', maxOutOfOrderness: 8 }),
    ],
  ])('%s: restored from a checkpoint, a new node continues exactly where the old one was', (_, make) => {
    const scheduler = new TestScheduler(() => undefined);
    const whole = harness(make());
    whole.send(...bets);
    whole.end();

    const store = new Map<string, unknown>();
    const first = checkpointed(scheduler);
    const before = harness(make(), first.ctx);
    before.send(...bets.slice(0, 20));
    save(store, first.holder.state!);
    before.send(...bets.slice(20, 37));
    save(store, first.holder.state!);
    before.sub.unsubscribe(); // a crash: nothing after the checkpoint survives

    const second = checkpointed(scheduler, store);
    const after = harness(make(), second.ctx);
    after.send(...bets.slice(37));
    after.end();
    save(store, second.holder.state!);

    const results = (h: { out: Event[] }) => h.out.map((e) => (e.error ? e.error.message : e.payload));
    expect([...results(before), ...results(after)]).toEqual(results(whole));
    expect(results(whole).length).toBeGreaterThan(10);
    // Everything fired at the end: only the watermark is left in the store.
    expect([...store.keys()]).toEqual(['~watermark']);
  });
});

describe("endOfInput: 'keep'", () => {
  it('without checkpoints: nothing fires at the end; the events held are nacked for redelivery', () => {
    const h = harness(eventtime.tumblingWindow({ size: 10, timeField: 't', endOfInput: 'keep' }));
    h.send(bet(1), bet(12));
    h.end();
    expect(h.out.map((e) => e.payload)).toEqual([res(null, 0, 10, 1)]);
    h.out[0].delivery!.ack();
    expect(h.probe.log.map((s) => [(s.payload as { t: number }).t, s.acked, s.reason])).toEqual([
      [12, false, CUT_OFF],
      [1, true, undefined],
    ]);
  });

  it('with checkpoints: the open windows stay in the state, and a restarted node fires them with what comes next', () => {
    const scheduler = new TestScheduler(() => undefined);
    const store = new Map<string, unknown>();
    const first = checkpointed(scheduler);
    const make = () => eventtime.sessionWindow({ gap: 5, timeField: 't', endOfInput: 'keep' });
    const before = harness(make(), first.ctx);
    before.send(bet(1), bet(3));
    before.end();
    save(store, first.holder.state!);
    expect(before.out).toEqual([]);
    const second = checkpointed(scheduler, store);
    const after = harness(make(), second.ctx);
    after.send(bet(6), bet(30));
    expect(after.out.map((e) => e.payload)).toEqual([res(null, 1, 11, 3)]);
  });
});

it('a restore that comes after the node subscribed (before any event) still applies', () => {
  const scheduler = new TestScheduler(() => undefined);
  const store = new Map<string, unknown>();
  const first = checkpointed(scheduler);
  const make = () => eventtime.tumblingWindow({ size: 10, timeField: 't', endOfInput: 'keep' });
  const before = harness(make(), first.ctx);
  before.send(bet(1), bet(2));
  before.end();
  save(store, first.holder.state!);
  const second = checkpointed(scheduler);
  const after = harness(make(), second.ctx);
  second.holder.state!.restore(store.entries());
  after.send(bet(3), bet(15));
  expect(after.out.map((e) => e.payload)).toEqual([res(null, 0, 10, 3)]);
});
