import { Observable, type OperatorFunction, type Subscription } from 'rxjs';

/**
 * One queue for every trampoline in the process: a task started while another runs is queued
 * and run after it, from the outermost task's loop, so the stack unwinds between them.
 */
const queue: (() => void)[] = [];
let head = 0;
let draining = false;

function run(task: () => void): void {
  if (draining) {
    queue.push(task);
    return;
  }
  draining = true;
  let failure: { error: unknown } | undefined;
  try {
    for (let next: (() => void) | undefined = task; next; next = head < queue.length ? queue[head++] : undefined) {
      try {
        next();
      } catch (error) {
        // The other queued work still runs; the first failure surfaces once the queue is empty.
        failure ??= { error };
      }
    }
  } finally {
    queue.length = 0;
    head = 0;
    draining = false;
  }
  if (failure) throw failure.error;
}

/**
 * Passes everything on unchanged — subscribe, values, error, completion and unsubscribe — but
 * through one process-wide trampoline queue, so a long chain of synchronous operators does not
 * nest one stack frame per operator: the network puts one after every so many nodes of a
 * chain, and a 10,000-node chain runs in bounded stack. Order is kept (the queue is FIFO); on a
 * virtual clock nothing changes (no scheduler is involved).
 *
 * @example
 * ```ts
 * const deep = source.pipe(...manyOperators, trampoline(), ...manyMore);
 * ```
 */
export function trampoline<T>(): OperatorFunction<T, T> {
  return (source) =>
    new Observable<T>((out) => {
      let sub: Subscription | undefined;
      let closed = false;
      run(() => {
        if (closed) return;
        sub = source.subscribe({
          next: (value) => run(() => out.next(value)),
          error: (err) => run(() => out.error(err)),
          complete: () => run(() => out.complete()),
        });
      });
      return () => {
        closed = true;
        run(() => sub?.unsubscribe());
      };
    });
}
