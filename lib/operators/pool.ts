import { Observable, type OperatorFunction } from 'rxjs';
import { RingQueue } from './queue';

/**
 * The work a pool does for one value: emit any number of results through `emit`, and return
 * a promise when the work is asynchronous (the worker stays busy until it settles). It must
 * not throw or reject for per-value failures: turn those into results (error events).
 */
export type PoolWork<T, R> = (value: T, emit: (result: R) => void) => void | PromiseLike<unknown>;

/**
 * Runs `work` for each value with at most `concurrency` asynchronous calls in flight;
 * values that arrive while every worker is busy wait in a FIFO ring buffer. Synchronous work
 * runs inline with no promise overhead. With `concurrency: 1` results keep input order.
 * The output completes once the input has completed and every call has finished, which is
 * what makes `stop()` a drain.
 *
 * Not built on `mergeMap(fn, n)`: its overflow buffer is drained with `Array#shift`, which
 * is quadratic over large backlogs.
 *
 * @example
 * ```ts
 * from([1, 2, 3]).pipe(
 *   workerPool(8, async (n, emit) => emit(await lookup(n))),
 * ).subscribe(console.log);
 * ```
 */
export function workerPool<T, R>(concurrency: number, work: PoolWork<T, R>): OperatorFunction<T, R> {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, got ${concurrency}`);
  return (source) =>
    new Observable<R>((subscriber) => {
      const queue = new RingQueue<T>();
      let active = 0;
      let inputDone = false;
      let closed = false;
      const emit = (result: R) => {
        if (!closed) subscriber.next(result);
      };
      const fail = (err: unknown) => {
        if (closed) return;
        closed = true;
        subscriber.error(err);
      };
      const maybeComplete = () => {
        if (!closed && inputDone && active === 0 && queue.length === 0) {
          closed = true;
          subscriber.complete();
        }
      };
      const settled = () => {
        active--;
        while (!closed && active < concurrency && queue.length > 0) run(queue.shift() as T);
        maybeComplete();
      };
      const run = (value: T) => {
        let result: void | PromiseLike<unknown>;
        try {
          result = work(value, emit);
        } catch (err) {
          fail(err);
          return;
        }
        if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
          active++;
          (result as PromiseLike<unknown>).then(settled, fail);
        }
      };
      const upstream = source.subscribe({
        next(value) {
          if (active < concurrency && queue.length === 0) run(value);
          else queue.push(value);
        },
        error: fail,
        complete() {
          inputDone = true;
          maybeComplete();
        },
      });
      return () => {
        closed = true;
        upstream.unsubscribe();
        queue.clear();
      };
    });
}
