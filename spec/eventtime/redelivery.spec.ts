// Windows under checkpoints: after a crash that lost acks, a source redelivers events the
// restored windows already count. They must not be counted twice (exactly-once effect on
// window state with an at-least-once source), and they are acked again.
import { Observable, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { createDelivery, createEvent, Network, type Event, type NodeSpec } from 'tributary';
import { VirtualClock } from 'tributary/testing';
import { tumblingWindow } from '../../lib/eventtime/tumbling-window';
import { memoryStore } from '../../lib/state/memory';
import { POSITION_HEADER, type KeyValueStore } from '../../lib/state/types';

const quiet = { warn: () => undefined, error: () => undefined };
const settles = { idle: () => new Promise<void>((r) => setImmediate(r)) };

interface Input {
  at: number;
  /** Event time of the bet, ms. */
  t: number;
  seq: number;
}

function source(scheduler: TestScheduler, inputs: Input[], log: string[], end?: number): NodeSpec {
  return {
    role: 'source',
    kind: 'test',
    create: () =>
      new Observable<Event>((sub) => {
        const timers = new Subscription();
        for (const i of inputs) {
          timers.add(
            scheduler.schedule(() => {
              const delivery = createDelivery((s) => log.push(`${s.acked ? 'ack' : 'nack'} #${i.seq}`));
              sub.next(
                createEvent(
                  { customer: 'x', stake: i.seq, at: i.t },
                  { time: scheduler.now(), delivery, headers: { [POSITION_HEADER]: `nats:BETS#${i.seq}` } },
                ),
              );
            }, i.at),
          );
        }
        if (end !== undefined) timers.add(scheduler.schedule(() => sub.complete(), end));
        return timers;
      }),
  };
}

/** source → tumbling_window (sum of stakes per customer per 10 s, kept over a stop) → sink, on virtual time. */
async function run(store: KeyValueStore | undefined, inputs: Input[], until: number, end?: number, ackOutputs = true) {
  const s = new TestScheduler((a, b) => expect(a).toEqual(b));
  const log: string[] = [];
  const out: unknown[] = [];
  const net = new Network({ scheduler: s, logger: quiet, ...(store ? { state: { store, checkpointInterval: '1s' } } : {}) });
  net.add('in', source(s, inputs, log, end));
  net.add(
    'w',
    tumblingWindow({
      size: '10s',
      key: 'customer',
      aggregate: 'sum',
      field: 'stake',
      timeField: 'at',
      endOfInput: end === undefined ? 'keep' : 'fire',
    }),
  );
  net.add('out', {
    role: 'sink',
    kind: 'test',
    create: (ctx) => (src) =>
      new Observable((sub) =>
        src.subscribe({
          next: (e) => {
            out.push(e.error ? { error: e.error.message } : e.payload);
            if (ackOutputs) ctx.ack(e);
          },
          complete: () => sub.complete(),
        }),
      ),
  });
  net.link('in', 'w').link('w', 'out');
  const clock = new VirtualClock(s, settles);
  await clock.start(net);
  await clock.advanceTo(until);
  await clock.stop(net);
  return { log, out };
}

describe('event-time windows under checkpoints', () => {
  it('without checkpoints (no state option) hold each event until the result that includes it is acked', async () => {
    const inputs = [
      { at: 10, t: 1000, seq: 1 },
      { at: 20, t: 2000, seq: 2 },
    ];
    // The sink never acks the window's result: the events stay unacked (in memory only, a
    // crash would lose them otherwise), and at the end they are nacked for redelivery.
    const held = await run(undefined, inputs, 1500, 100, false);
    expect(held.out).toEqual([expect.objectContaining({ key: 'x', value: 3 })]);
    expect(held.log.filter((l) => l.startsWith('ack'))).toEqual([]);
    const acked = await run(undefined, inputs, 1500, 100, true);
    expect(acked.log).toEqual(['ack #1', 'ack #2']);
  });

  it('do not count again events a restored window already holds, and ack their redelivery', async () => {
    const store = memoryStore();
    // First run: three bets in the window [0, 10 s), checkpointed, then the process stops
    // (the window stays open in the checkpoint).
    const first = await run(
      store,
      [
        { at: 10, t: 1000, seq: 1 },
        { at: 20, t: 2000, seq: 2 },
        { at: 30, t: 3000, seq: 3 },
      ],
      1500,
    );
    expect(first.log).toEqual(['ack #1', 'ack #2', 'ack #3']);
    expect(first.out).toEqual([]);
    // Second run, as after a crash that lost the acks of 2 and 3: both come again, then a new
    // bet, then the input ends and the window fires.
    const second = await run(
      store,
      [
        { at: 10, t: 2000, seq: 2 },
        { at: 20, t: 3000, seq: 3 },
        { at: 30, t: 4000, seq: 4 },
      ],
      1500,
      100,
    );
    expect(second.out).toEqual([expect.objectContaining({ key: 'x', start: 0, end: 10_000, value: 1 + 2 + 3 + 4 })]);
    expect(second.log.sort()).toEqual(['ack #2', 'ack #3', 'ack #4']);
  });
});
