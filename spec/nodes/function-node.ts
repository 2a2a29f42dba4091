/**
 * The contract every function node (map, where, flatmap, tap, interceptor) keeps, written
 * once and run by each kind's spec: marbles for the sync path, real (resolved) promises for
 * the async path, errors as data, and the concurrency cap measured, not assumed.
 */
import { nodes, TributaryError, type Event, type NodeSpec } from 'tributary';
import { errorEvent, events, gauge, marblePipeline, pipelineOf, probeContext, runAll, tracked, view, viewAll } from './support';
import { createEvent } from 'tributary';

export interface FunctionKind {
  /** Registry kind name (messages name it). */
  kind: keyof typeof nodes;
  /** Builds the node from a payload-level function (the kind's own fn shape is adapted). */
  make(fn: (payload: any) => unknown, concurrency?: number): NodeSpec;
  /** A result of the payload-level function that makes the node emit the payload unchanged. */
  pass(payload: unknown): unknown;
}

export function functionNodeContract({ kind, make, pass }: FunctionKind): void {
  const node = 'fn_node';
  const v = events({ a: 1, b: 2, c: 3, d: 4, x: errorEvent(99, 'boom') });
  const failed = (message: string) => ({ error: message, node });

  describe(`the function-node contract (${kind})`, () => {
    it('completes without calling fn when no events arrive', () => {
      let calls = 0;
      marblePipeline(
        make((p) => (calls++, pass(p))),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold<Event>('---|').pipe(op, viewAll)).toBe('---|');
        },
        node,
      );
      expect(calls).toBe(0);
    });

    it('handles one event in the frame it arrives', () => {
      marblePipeline(
        make(pass),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold('--a|', v).pipe(op, viewAll)).toBe('--a|', { a: 1 });
        },
        node,
      );
    });

    it('handles many events in order', () => {
      marblePipeline(
        make(pass),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold('-ab-cd|', v).pipe(op, viewAll)).toBe('-ab-cd|', { a: 1, b: 2, c: 3, d: 4 });
        },
        node,
      );
    });

    it('passes error events through untouched, without calling fn', () => {
      const seen: unknown[] = [];
      marblePipeline(
        make((p) => (seen.push(p), pass(p))),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold('-axb|', v).pipe(op, viewAll)).toBe('-axb|', { a: 1, x: { error: 'boom', node: 'upstream' }, b: 2 });
        },
        node,
      );
      expect(seen).toEqual([1, 2]);
    });

    it('keeps working on an input that never completes', () => {
      marblePipeline(
        make(pass),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold('-a-b-c-', v).pipe(op, viewAll)).toBe('-a-b-c-', { a: 1, b: 2, c: 3 });
        },
        node,
      );
    });

    it('unsubscribes from its input when its subscriber unsubscribes early', () => {
      marblePipeline(
        make(pass),
        ({ cold, expectObservable, expectSubscriptions }, op) => {
          const input = cold('-a-b-c-d|', v);
          expectObservable(input.pipe(op, viewAll), '^--!').toBe('-a-', { a: 1 });
          expectSubscriptions(input.subscriptions).toBe('^--!');
        },
        node,
      );
    });

    it('turns a throw into an error event naming the node, counts it, and keeps going', () => {
      const ctx = marblePipeline(
        make((p) => {
          if (p === 2) throw new Error('bad stake');
          return pass(p);
        }),
        ({ cold, expectObservable }, op) => {
          expectObservable(cold('-abc|', v).pipe(op, viewAll)).toBe('-abc|', { a: 1, b: failed('bad stake'), c: 3 });
        },
        node,
      );
      expect(ctx.stats.errors).toBe(1);
    });

    it('keeps the payload, metadata and ack handle on the error event (the sink settles it)', async () => {
      const sent = tracked(7);
      const ctx = probeContext(node);
      const [out] = await runAll(
        [sent.event],
        pipelineOf(
          make(() => {
            throw 'nope';
          }),
          ctx,
        ),
      );
      expect(view(out)).toEqual(failed('nope'));
      expect(out.payload).toBe(7);
      expect(out.meta).toBe(sent.event.meta);
      expect(out.delivery).toBe(sent.delivery);
      expect(sent.delivery.calls).toEqual([]);
    });

    it('turns a rejected promise into an error event naming the node, and keeps going', async () => {
      const ctx = probeContext(node);
      const op = pipelineOf(
        make(async (p) => {
          if (p === 2) throw new Error('lookup failed');
          return pass(p);
        }),
        ctx,
      );
      const out = await runAll(
        [1, 2, 3].map((p) => createEvent(p)),
        op,
      );
      expect(out.map(view)).toEqual([1, failed('lookup failed'), 3]);
      expect(ctx.stats.errors).toBe(1);
    });

    it('with concurrency 1 runs one async call at a time and keeps input order', async () => {
      const g = gauge(pass, (p: number) => 10 - (p % 10));
      const input = Array.from({ length: 30 }, (_, i) => createEvent(i));
      const out = await runAll(input, pipelineOf(make(g.fn, 1), probeContext(node)));
      expect(out.map(view)).toEqual(input.map((e) => e.payload));
      expect(g.max).toBe(1);
    });

    it('with concurrency N runs at most N async calls at once, reaches N, and loses nothing', async () => {
      const g = gauge(pass, (p: number) => 10 - (p % 10));
      const input = Array.from({ length: 40 }, (_, i) => createEvent(i));
      const out = await runAll(input, pipelineOf(make(g.fn, 4), probeContext(node)));
      expect(g.max).toBe(4);
      expect(g.calls).toBe(40);
      expect((out.map(view) as number[]).sort((x, y) => x - y)).toEqual(input.map((e) => e.payload));
    });

    it('completes only after every async call has finished', async () => {
      const g = gauge(pass, () => 50);
      const out = await runAll([createEvent('last')], pipelineOf(make(g.fn, 2), probeContext(node)));
      expect(out.map(view)).toEqual(['last']);
      expect(g.running).toBe(0);
    });

    it('rejects a missing fn, a non-function fn, unknown options and a bad concurrency, naming kind and option', () => {
      const factory = nodes[kind] as unknown as (o?: object) => unknown;
      expect(() => factory({})).toThrow(TributaryError);
      expect(() => factory({})).toThrow(new RegExp(`node kind '${kind}': option 'fn' is required`));
      expect(() => factory({ fn: 'x => x' })).toThrow(new RegExp(`node kind '${kind}': option 'fn' must be a function`));
      expect(() => factory({ fn: pass, concurency: 2 })).toThrow(new RegExp(`node kind '${kind}': unknown option 'concurency'`));
      expect(() => factory({ fn: pass, concurrency: 0 })).toThrow(
        new RegExp(`node kind '${kind}': option 'concurrency' must be at least 1`),
      );
      expect(() => factory({ fn: pass, concurrency: 2.5 })).toThrow(
        new RegExp(`node kind '${kind}': option 'concurrency' must be an integer`),
      );
      expect(() => factory({ fn: pass, concurrency: '4' })).toThrow(
        new RegExp(`node kind '${kind}': option 'concurrency' must be an integer`),
      );
    });
  });
}
