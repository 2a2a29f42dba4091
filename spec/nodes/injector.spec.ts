import { lastValueFrom, toArray } from 'rxjs';
import { nodes, type Event, type InjectorIO } from 'tributary';
import { probeContext, sourceOf, testScheduler, ticks, view, viewAll } from './support';

describe('injector', () => {
  it('completes without events when fn resolves having emitted nothing', async () => {
    const out = await lastValueFrom(sourceOf(nodes.injector({ fn: async () => undefined }), probeContext('numbers')).pipe(toArray()));
    expect(out).toEqual([]);
  });

  it('emits what fn emits, in order, and completes when its promise resolves', async () => {
    const src = sourceOf(
      nodes.injector({
        fn: async ({ emit }) => {
          for (let i = 0; i < 3; i++) await emit(i);
          await emit('last', { key: 'k' });
        },
      }),
      probeContext('numbers'),
    );
    const out = await lastValueFrom(src.pipe(toArray()));
    expect(out.map(view)).toEqual([0, 1, 2, 'last']);
    expect(out[3].meta.key).toBe('k');
  });

  it('stamps events with the scheduler time and can drive itself from the scheduler (never-ending, early unsubscribe)', () => {
    const t = testScheduler();
    let cleanedUp = 0;
    t.run(({ expectObservable }) => {
      const src = sourceOf(
        nodes.injector({
          fn: ({ emit, scheduler }: InjectorIO) => {
            const sub = scheduler.schedule(function (this: { schedule(s?: unknown, d?: number): void }) {
              void emit(scheduler.now());
              this.schedule(undefined, 2);
            }, 2);
            return () => {
              cleanedUp++;
              sub.unsubscribe();
            };
          },
        }),
        probeContext('clock', t),
      );
      expect(cleanedUp).toBe(0);
      expectObservable(src.pipe(viewAll), '^-----!').toBe('--a-b-', { a: 2, b: 4 });
    });
    expect(cleanedUp).toBe(1);
  });

  it('aborts the signal on unsubscribe and ignores emits after it', async () => {
    let io!: InjectorIO;
    const seen: Event[] = [];
    const sub = sourceOf(nodes.injector({ fn: (x) => void (io = x) }), probeContext('s')).subscribe((e) => seen.push(e));
    await io.emit(1);
    expect(io.signal.aborted).toBe(false);
    sub.unsubscribe();
    expect(io.signal.aborted).toBe(true);
    await io.emit(2);
    expect(seen.map(view)).toEqual([1]);
  });

  it('logs, counts and completes when fn throws or rejects (a source failure never errors the stream)', async () => {
    for (const fn of [
      () => {
        throw new Error('no connection');
      },
      async () => {
        throw new Error('no connection');
      },
    ]) {
      const ctx = probeContext('bus');
      const out = await lastValueFrom(sourceOf(nodes.injector({ fn }), ctx).pipe(toArray()));
      expect(out).toEqual([]);
      expect(ctx.stats.errors).toBe(1);
      expect(ctx.logger.errors).toEqual(["source 'bus' failed: no connection"]);
    }
  });

  it('with maxInFlight, emit waits while that many events are unsettled (backpressure)', async () => {
    const emitted: number[] = [];
    const seen: Event[] = [];
    let done = false;
    sourceOf(
      nodes.injector({
        maxInFlight: 2,
        fn: async ({ emit }) => {
          for (let i = 0; i < 4; i++) {
            emitted.push(i);
            await emit(i);
          }
        },
      }),
      probeContext('s'),
    ).subscribe({ next: (e) => seen.push(e), complete: () => (done = true) });
    await ticks(10);
    expect(emitted).toEqual([0, 1]);
    seen[0].delivery!.ack();
    await ticks(10);
    expect(emitted).toEqual([0, 1, 2]);
    seen[1].delivery!.ack();
    seen[2].delivery!.nack('x');
    await ticks(10);
    expect(emitted).toEqual([0, 1, 2, 3]);
    expect(done).toBe(true);
  });

  it('calls onSettle exactly once per event, even when settled twice', async () => {
    const calls: unknown[] = [];
    const out = await lastValueFrom(
      sourceOf(
        nodes.injector({ onSettle: (e, s) => calls.push([e.payload, s.acked]), fn: async ({ emit }) => void (await emit('a')) }),
        probeContext('s'),
      ).pipe(toArray()),
    );
    out[0].delivery!.ack();
    out[0].delivery!.nack();
    expect(calls).toEqual([['a', true]]);
  });

  it('rejects a missing fn and a bad maxInFlight, naming kind and option', () => {
    expect(() => (nodes.injector as (o?: object) => unknown)({})).toThrow(/node kind 'injector': option 'fn' is required/);
    expect(() => nodes.injector({ fn: async () => undefined, maxInFlight: 0 })).toThrow(
      /node kind 'injector': option 'maxInFlight' must be at least 1/,
    );
  });
});
