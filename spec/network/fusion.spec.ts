import fc from 'fast-check';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { Network, nodes, withPayload, type DeadLetter, type Event, type Settlement } from 'tributary';
import { VirtualTime } from 'tributary/testing';

/** How a generated node's function behaves for one payload. */
type Mode = 'sync' | 'throw' | 'async' | 'reject' | 'later';
type Kind = 'map' | 'where' | 'tap' | 'forwarder' | 'interceptor';
interface NodePlan {
  kind: Kind;
  /** Payload p uses modes[p % modes.length]. */
  modes: Mode[];
  /** The function declares and reads its second argument, the event (else it takes the payload only). */
  readsEvent: boolean;
}
interface Plan {
  payloads: number[];
  shape: 'linear' | 'fan' | 'errorRoute';
  chain: NodePlan[];
  sinkModes: Mode[];
  sinkReadsEvent: boolean;
  maxInFlight?: number;
  /**
   * A plain list source (no maxInFlight, no onSettle) and no metrics: what a fused run takes
   * as bare payloads, making events only where a node needs one. Else a tracked source with
   * every call timed, which takes the event path throughout.
   */
  plain: boolean;
}

/** Every source stamps this time, so what a node reads of an event is the same on every run. */
const CLOCK = 1_000;
const fixedClock: SchedulerLike = { now: () => CLOCK, schedule: asyncScheduler.schedule.bind(asyncScheduler) };

/** What a function that reads its event adds to its result: 0 when the event has the source's time and an id. */
function fromEvent(e: Event): number {
  return e.meta.time === CLOCK && e.meta.id.length > 0 ? 0 : NaN;
}

const later = () => new Promise<void>((r) => setImmediate(r));

/** Applies a mode to a value: returns it, throws, or returns a promise resolving or rejecting. */
function behave<T>(mode: Mode, name: string, p: unknown, value: () => T): T | Promise<T> {
  switch (mode) {
    case 'sync':
      return value();
    case 'throw':
      throw new Error(`${name} failed on ${String(p)}`);
    case 'async':
      return Promise.resolve().then(value);
    case 'reject':
      return Promise.reject(new Error(`${name} rejected ${String(p)}`));
    case 'later':
      return later().then(value);
  }
}

function num(p: unknown): number {
  return typeof p === 'number' ? p : 0;
}

function pipelineNode(plan: NodePlan, name: string, index: number) {
  const mode = (p: unknown) => plan.modes[num(p) % plan.modes.length];
  switch (plan.kind) {
    case 'map':
      return nodes.map({
        fn: plan.readsEvent
          ? (p: number, e: Event) => behave(mode(p), name, p, () => p + index + 1 + fromEvent(e))
          : (p: number) => behave(mode(p), name, p, () => p + index + 1),
      });
    case 'where':
      return nodes.where({
        fn: plan.readsEvent
          ? (p: number, e: Event) => behave(mode(p), name, p, () => p % 3 !== index % 3 && fromEvent(e) === 0)
          : (p: number) => behave(mode(p), name, p, () => p % 3 !== index % 3),
      });
    case 'tap':
      return nodes.tap({
        fn: plan.readsEvent
          ? (p: number, e: Event) => behave(mode(p), name, p, () => void fromEvent(e))
          : (p: number) => behave(mode(p), name, p, () => undefined),
      });
    case 'forwarder':
      return nodes.forwarder();
    case 'interceptor':
      return nodes.interceptor({
        fn: (e: Event) =>
          behave(mode(e.payload), name, e.payload, () => (num(e.payload) % 5 === 4 ? undefined : withPayload(e, num(e.payload) * 2))),
      });
  }
}

interface Outcome {
  received: Record<string, unknown[]>;
  settled: string[];
  report: unknown;
  snapshot: unknown;
}

/** Builds the planned network with or without fusion, runs it to the end and collects what a user can see. */
async function run(plan: Plan, fusion: boolean): Promise<Outcome> {
  const received: Record<string, unknown[]> = { out: [], dead: [] };
  const settled: string[] = [];
  const net = new Network({
    fusion,
    scheduler: fixedClock,
    metrics: plan.plain ? undefined : { sampleEvery: 1 },
    logger: { warn: () => undefined, error: () => undefined },
  });
  net.add(
    'src',
    plan.plain
      ? nodes.from({ items: plan.payloads })
      : nodes.from({
          items: plan.payloads,
          maxInFlight: plan.maxInFlight,
          onSettle: (e: Event, s: Settlement) =>
            settled.push(`${String(e.payload)}:${s.acked ? 'ack' : `nack ${String((s.reason as Error)?.message ?? s.reason)}`}`),
        }),
  );
  const names = plan.chain.map((n, i) => {
    const name = `n${i}_${n.kind}`;
    net.add(name, pipelineNode(n, name, i));
    return name;
  });
  const sinkMode = (p: unknown) => plan.sinkModes[num(p) % plan.sinkModes.length];
  net.add(
    'out',
    nodes.sink({
      fn: plan.sinkReadsEvent
        ? (p: unknown, e: Event) =>
            behave(sinkMode(p), 'out', p, () => {
              received.out.push(`${String(p)}@${e.meta.time}`);
            })
        : (p: unknown) =>
            behave(sinkMode(p), 'out', p, () => {
              received.out.push(p);
            }),
    }),
  );
  if (plan.shape === 'fan' && names.length >= 3) {
    // src → first → fan-out to two runs → fan-in at the sink.
    const [first, ...rest] = names;
    const half = Math.ceil(rest.length / 2);
    const left = rest.slice(0, half);
    const right = rest.slice(half);
    net.link('src', first);
    for (const branch of [left, right]) {
      net.link(first, branch[0]);
      for (let i = 1; i < branch.length; i++) net.link(branch[i - 1], branch[i]);
      net.link(branch[branch.length - 1], 'out');
    }
  } else {
    net.link('src', names[0]);
    for (let i = 1; i < names.length; i++) net.link(names[i - 1], names[i]);
    net.link(names[names.length - 1], 'out');
    if (plan.shape === 'errorRoute') {
      const at = names[Math.floor(names.length / 2)];
      net.add('dead', nodes.sink({ fn: (l: DeadLetter) => void received.dead.push(`${l.node}:${l.error}:${String(l.payload)}`) }));
      net.routeErrors(at, 'dead');
    }
  }
  await net.start();
  await net.done();
  const snapshot = net.snapshot().nodes.map((n) => ({ ...n, timing: n.timing.count, errors: [...n.errors].sort() }));
  return { received, settled, report: net.report(), snapshot };
}

const mode = fc.constantFrom<Mode>('sync', 'sync', 'sync', 'throw', 'async', 'reject', 'later');
const nodePlan = fc.record({
  kind: fc.constantFrom<Kind>('map', 'where', 'tap', 'forwarder', 'interceptor'),
  modes: fc.array(mode, { minLength: 1, maxLength: 4 }),
  readsEvent: fc.boolean(),
});
const plan: fc.Arbitrary<Plan> = fc.record({
  payloads: fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 25 }),
  shape: fc.constantFrom<Plan['shape']>('linear', 'fan', 'errorRoute'),
  chain: fc.array(nodePlan, { minLength: 1, maxLength: 6 }),
  sinkModes: fc.array(mode, { minLength: 1, maxLength: 3 }),
  sinkReadsEvent: fc.boolean(),
  maxInFlight: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
  plain: fc.boolean(),
});

/** True when some function of the plan may return a promise. */
function usesAsync(p: Plan): boolean {
  const modes = [...p.chain.flatMap((n) => n.modes), ...p.sinkModes];
  return modes.some((m) => m !== 'sync' && m !== 'throw');
}

describe('fusion', () => {
  it('gives the same outputs, counters, acks, dead letters and metrics fused and unfused (property)', async () => {
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const fused = await run(p, true);
        const plain = await run(p, false);
        const linear = p.shape !== 'fan' || p.chain.length < 3;
        if (linear) {
          // One path: the outputs come in the same order. Settlements of different events
          // may interleave differently once a function went asynchronous (a worker pool starts
          // its next call a microtask later than the fused loop): each event's outcome is what
          // must be the same, and it is compared below and in the sorted list.
          expect(fused.received).toEqual(plain.received);
          expect([...fused.settled].sort()).toEqual([...plain.settled].sort());
          // Without asynchronous functions nothing can reorder: then the order is the same too.
          if (!usesAsync(p)) expect(fused.settled).toEqual(plain.settled);
        } else {
          // Two branches merged: each branch keeps its order, the interleaving may differ.
          expect([...fused.received.out].sort()).toEqual([...plain.received.out].sort());
          // An event nacked on both branches reports the first branch's failure, and which
          // branch fails first is that interleaving: compare the outcomes without the reason.
          const outcome = (l: string) => l.replace(/^(\d+:nack).*$/, '$1');
          expect(fused.settled.map(outcome).sort()).toEqual(plain.settled.map(outcome).sort());
        }
        expect(fused.report).toEqual(plain.report);
        expect(fused.snapshot).toEqual(plain.snapshot);
        // Every event was settled exactly once (a plain list's items have nothing to settle).
        expect(fused.settled).toHaveLength(p.plain ? 0 : p.payloads.length);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('keeps input order through a run where a function returns a promise for some events', async () => {
    const out: number[] = [];
    const calls: string[] = [];
    const net = new Network();
    net.add('src', nodes.from({ items: [1, 2, 3, 4, 5, 6] }));
    net.add(
      'slow_odd',
      nodes.map({
        fn: (n: number) => {
          calls.push(`map ${n}`);
          return n % 2 ? later().then(() => n * 10) : n * 10;
        },
      }),
    );
    net.add('keep', nodes.where({ fn: (n: number) => n !== 40 }));
    net.add('collect', nodes.sink({ fn: (n: number) => void out.push(n) }));
    net.link('src', 'slow_odd').link('slow_odd', 'keep').link('keep', 'collect');
    await net.start();
    await net.done();
    expect(out).toEqual([10, 20, 30, 50, 60]);
    // concurrency 1: the next call waits for the promise of the one before.
    expect(calls).toEqual(['map 1', 'map 2', 'map 3', 'map 4', 'map 5', 'map 6']);
    expect(net.report().stats.keep).toEqual({ in: 6, out: 5, errors: 0, acked: 0, nacked: 0, dropped: 1 });
  });

  it('makes the event a node reads after payload-only steps with the time and id the source gave the item', () => {
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler });
    const seen: { payload: number; time: number; id: string }[] = [];
    net.add('src', nodes.from({ items: [1, 2, 3, 4] }));
    net.add('triple', nodes.map({ fn: (n: number) => n * 3 }));
    net.add('even', nodes.where({ fn: (n: number) => n % 2 === 0 }));
    net.add('stamp', nodes.sink({ fn: (n: number, e: Event) => void seen.push({ payload: n, time: e.meta.time, id: e.meta.id }) }));
    net.link('src', 'triple').link('triple', 'even').link('even', 'stamp');
    // The list is read when the network starts: at 7 ms on the virtual clock.
    t.scheduler.run(() => t.scheduler.schedule(() => net.startSync(), 7));
    expect(seen.map(({ payload, time }) => ({ payload, time }))).toEqual([
      { payload: 6, time: 7 },
      { payload: 12, time: 7 },
    ]);
    expect(new Set(seen.map((s) => s.id)).size).toBe(2);
    expect(net.report().stats.even).toEqual({ in: 4, out: 2, errors: 0, acked: 0, nacked: 0, dropped: 2 });
  });

  it.each([
    ['an Observable', (t: VirtualTime) => t.scheduler.createColdObservable('-a-b-c-d|', { a: 1, b: 2, c: 3, d: 4 })],
    [
      'a generator',
      () =>
        (function* () {
          yield* [1, 2, 3, 4];
        })(),
    ],
  ])('gives the same events fused and unfused from %s through payload-only steps', (_what, items) => {
    const outcome = (fusion: boolean) => {
      const t = new VirtualTime();
      const net = new Network({ scheduler: t.scheduler, fusion });
      const seen: string[] = [];
      net.add('src', nodes.from({ items: items(t) }));
      net.add('triple', nodes.map({ fn: (n: number) => n * 3 }));
      net.add('even', nodes.where({ fn: (n: number) => n % 2 === 0 }));
      net.add('stamp', nodes.sink({ fn: (n: number, e: Event) => void seen.push(`${n}@${e.meta.time}`) }));
      net.link('src', 'triple').link('triple', 'even').link('even', 'stamp');
      t.scheduler.run(() => t.scheduler.schedule(() => net.startSync(), 2));
      return { seen, stats: net.report().stats };
    };
    const fused = outcome(true);
    expect(fused.seen.length).toBe(2);
    expect(fused).toEqual(outcome(false));
  });

  it('names the node and the payload it failed on when a payload-only step throws', async () => {
    const letters: DeadLetter[] = [];
    const net = new Network({ logger: { warn: () => undefined, error: () => undefined } });
    net.add('src', nodes.from({ items: [1, 2, 3] }));
    net.add('check', nodes.map({ fn: (n: number) => (n === 2 ? JSON.parse('{') : n) as number }));
    net.add('out', nodes.sink({ fn: (n: number) => n }));
    net.add('dead', nodes.sink({ fn: (l: DeadLetter) => void letters.push(l) }));
    net.link('src', 'check').link('check', 'out');
    net.routeErrors('check', 'dead');
    await net.start();
    await net.done();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ node: 'check', payload: 2 });
    expect(letters[0].error).toMatch(/JSON/);
    expect(net.report().stats.check).toMatchObject({ in: 3, out: 3, errors: 1 });
  });

  it('refuses a fusion option that is not a boolean, naming it', () => {
    expect(() => new Network({ fusion: 'off' as unknown as boolean })).toThrow("Network: option 'fusion' must be true or false, got off");
  });
});
