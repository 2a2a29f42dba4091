import { createEvent, nodes, TributaryError, withError, type Event, type NodeSpec } from 'tributary';
import { errorEvent, events, gauge, marblePipeline, probeContext, runAll, sinkOf, testScheduler, tracked } from './support';

type Make = (fn: (x: any) => unknown, concurrency?: number) => NodeSpec;

/** What sink and handler share: they differ only in what fn receives. */
function sinkContract(kind: 'sink' | 'handler', make: Make, arg: (e: Event) => unknown) {
  const v = events({ a: 'a', b: 'b', c: 'c', x: errorEvent('x', 'boom', 'parse') });

  function marbles(node: NodeSpec, body: Parameters<typeof marblePipeline>[1]) {
    const t = testScheduler();
    const ctx = probeContext('save', t);
    t.run((h) => body(h, sinkOf(node, ctx) as never, ctx));
    return ctx;
  }

  describe(`the sink contract (${kind})`, () => {
    it('completes when its input completes, without calling fn for no events', () => {
      let calls = 0;
      marbles(
        make(() => calls++),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold<Event>('---|').pipe(op)).toBe('---|');
        },
      );
      expect(calls).toBe(0);
    });

    it('calls fn once per event, in order, in the frame it arrives, and emits nothing', () => {
      const t = testScheduler();
      const seen: [number, unknown][] = [];
      t.run(({ cold, expectObservable }) => {
        const op = sinkOf(
          make((x) => seen.push([t.now(), x])),
          probeContext('save', t),
        );
        expectObservable(cold('-a-bc|', v).pipe(op)).toBe('-----|');
      });
      expect(seen).toEqual([
        [1, arg(v.a)],
        [3, arg(v.b)],
        [4, arg(v.c)],
      ]);
    });

    it('keeps consuming an input that never completes, and unsubscribes from it on early unsubscribe', () => {
      let calls = 0;
      marbles(
        make(() => calls++),
        ({ cold, expectObservable, expectSubscriptions }, op) => {
          const input = cold('-a-b-c-', v);
          expectObservable(input.pipe(op), '^----!').toBe('------');
          expectSubscriptions(input.subscriptions).toBe('^----!');
        },
      );
      expect(calls).toBe(2);
    });

    it('acks each event exactly once after fn returned', async () => {
      const sent = ['a', 'b'].map(tracked);
      const ctx = probeContext('save');
      await runAll(
        sent.map((s) => s.event),
        sinkOf(
          make(() => undefined),
          ctx,
        ),
      );
      expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], ['ack']]);
      expect(ctx.stats).toMatchObject({ acked: 2, nacked: 0, errors: 0 });
    });

    it('acks only once the promise fn returned has resolved', async () => {
      const sent = tracked('a');
      let resolve!: () => void;
      const done = runAll(
        [sent.event],
        sinkOf(
          make(() => new Promise<void>((r) => (resolve = r))),
          probeContext('save'),
        ),
      );
      await null;
      expect(sent.delivery.calls).toEqual([]);
      resolve();
      await done;
      expect(sent.delivery.calls).toEqual(['ack']);
    });

    it('nacks exactly once (with the cause), counts and logs an event whose fn throws, and keeps going', async () => {
      const sent = ['a', 'b', 'c'].map(tracked);
      const ctx = probeContext('save');
      const cause = new Error('disk full');
      await runAll(
        sent.map((s) => s.event),
        sinkOf(
          make((x) => {
            if (arg(sent[1].event) === x) throw cause;
          }),
          ctx,
        ),
      );
      expect(sent.map((s) => s.delivery.calls)).toEqual([['ack'], ['nack'], ['ack']]);
      expect(sent[1].delivery.reasons).toEqual([cause]);
      expect(ctx.stats).toMatchObject({ acked: 2, nacked: 1, errors: 1 });
      expect(ctx.logger.errors).toEqual([expect.stringMatching(/node 'save': disk full \(event .+\)/)]);
    });

    it('nacks an event whose promise rejects', async () => {
      const sent = tracked('a');
      const ctx = probeContext('save');
      await runAll(
        [sent.event],
        sinkOf(
          make(async () => Promise.reject(new Error('timeout'))),
          ctx,
        ),
      );
      expect(sent.delivery.calls).toEqual(['nack']);
      expect(ctx.stats).toMatchObject({ nacked: 1, errors: 1 });
    });

    it('nacks and logs error events without calling fn (they are never dropped silently)', async () => {
      const failed = errorEvent('x', 'boom', 'parse');
      let calls = 0;
      const ctx = probeContext('save');
      const input = [createEvent('a'), failed];
      await runAll(
        input,
        sinkOf(
          make(() => calls++),
          ctx,
        ),
      );
      expect(calls).toBe(1);
      expect(ctx.logger.warnings).toEqual([expect.stringMatching(/node 'save': error event .+ from 'parse': boom/)]);
    });

    it('nacks the handle of an error event exactly once', async () => {
      const sent = tracked('x');
      const failed = withError(sent.event, new Error('boom'), 'parse');
      const ctx = probeContext('save');
      await runAll(
        [failed],
        sinkOf(
          make(() => undefined),
          ctx,
        ),
      );
      expect(sent.delivery.calls).toEqual(['nack']);
      expect(ctx.stats.nacked).toBe(1);
    });

    it('with concurrency 1 runs one async call at a time, in order', async () => {
      const order: unknown[] = [];
      const g = gauge(
        (x: unknown) => order.push(x),
        (x: any) => (String(x).length % 2 ? 7 : 1),
      );
      const input = Array.from({ length: 20 }, (_, i) => createEvent(i));
      await runAll(input, sinkOf(make(g.fn, 1), probeContext('save')));
      expect(g.max).toBe(1);
      expect(order).toEqual(input.map(arg));
    });

    it('with concurrency N runs at most N async calls at once, reaches N, and completes after all', async () => {
      const g = gauge(
        () => undefined,
        () => 5,
      );
      const sent = Array.from({ length: 25 }, (_, i) => tracked(i));
      await runAll(
        sent.map((s) => s.event),
        sinkOf(make(g.fn, 3), probeContext('save')),
      );
      expect(g.max).toBe(3);
      expect(g.running).toBe(0);
      expect(sent.every((s) => s.delivery.calls.join() === 'ack')).toBe(true);
    });

    it('rejects a missing fn, unknown options and a bad concurrency, naming kind and option', () => {
      const factory = nodes[kind] as unknown as (o?: object) => unknown;
      expect(() => factory({})).toThrow(new RegExp(`node kind '${kind}': option 'fn' is required`));
      expect(() => factory({ fn: () => 1, retries: 2 })).toThrow(new RegExp(`node kind '${kind}': unknown option 'retries'`));
      expect(() => factory({ fn: () => 1, concurrency: 0 })).toThrow(
        new RegExp(`node kind '${kind}': option 'concurrency' must be at least 1`),
      );
    });
  });
}

describe('sink', () => {
  sinkContract(
    'sink',
    (fn, concurrency) => nodes.sink({ fn, concurrency }),
    (e) => e.payload,
  );

  it('accepts an RxJS Observer and feeds payloads to its next', async () => {
    const seen: unknown[] = [];
    await runAll([createEvent(1), createEvent(2)], sinkOf(nodes.sink({ fn: { next: (n: number) => seen.push(n) } }), probeContext('s')));
    expect(seen).toEqual([1, 2]);
  });

  it("calls an Observer's complete once its input ended and every event was handled", async () => {
    const seen: string[] = [];
    const observer = {
      next: async (n: number) => {
        await Promise.resolve();
        seen.push(`next ${n}`);
      },
      complete: () => seen.push('complete'),
    };
    await runAll([createEvent(1), createEvent(2)], sinkOf(nodes.sink({ fn: observer }), probeContext('s')));
    expect(seen).toEqual(['next 1', 'next 2', 'complete']);
  });

  it('rejects an fn that is neither a function nor an Observer with a TributaryError naming kind and option', () => {
    for (const fn of [5, 'print', {}, { next: 1 }]) {
      expect(() => nodes.sink({ fn: fn as never })).toThrow(TributaryError);
      expect(() => nodes.sink({ fn: fn as never })).toThrow(/node kind 'sink': option 'fn' must be a function or an Observer/);
    }
  });
});

describe('handler', () => {
  sinkContract(
    'handler',
    (fn, concurrency) => nodes.handler({ fn, concurrency }),
    (e) => e,
  );

  it('gets the whole event, metadata included', async () => {
    const seen: string[] = [];
    await runAll(
      [createEvent('p', { key: 'k1' })],
      sinkOf(nodes.handler({ fn: (e: Event) => seen.push(`${e.meta.key}=${e.payload}`) }), probeContext('h')),
    );
    expect(seen).toEqual(['k1=p']);
  });

  it('rejects a non-function fn naming kind and option', () => {
    expect(() => nodes.handler({ fn: { next: () => 1 } as never })).toThrow(/node kind 'handler': option 'fn' must be a function/);
  });
});
