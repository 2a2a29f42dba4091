import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { handle, operate } from '../../lib/operators/operate';

const scheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('operate / handle', () => {
  it('maps values and passes completion and errors on by default', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const double = operate<number, number>((out, source) => source.subscribe(handle(out, { next: (n) => out.next(n * 2) })));
      expectObservable(cold('-a-b-|', { a: 1, b: 2 }).pipe(double)).toBe('-x-y-|', { x: 2, y: 4 });
      expectObservable(cold('-a-#', { a: 1 }).pipe(double)).toBe('-x-#', { x: 2 });
    });
  });

  it('turns a throwing next handler into an error of the output', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const boom = operate<number, number>((out, source) =>
        source.subscribe(
          handle(out, {
            next: () => {
              throw new Error('bad');
            },
          }),
        ),
      );
      expectObservable(cold('-a-b', { a: 1, b: 2 }).pipe(boom)).toBe('-#', undefined, new Error('bad'));
    });
  });

  it('runs finalize once and unsubscribes the source when the output is unsubscribed early', () => {
    const source = new Subject<number>();
    let finalized = 0;
    const op = operate<number, number>((out, src) => src.subscribe(handle(out, { finalize: () => finalized++ })));
    const seen: number[] = [];
    const sub = source.pipe(op).subscribe((v) => seen.push(v));
    source.next(1);
    sub.unsubscribe();
    source.next(2);
    expect(seen).toEqual([1]);
    expect(source.observed).toBe(false);
    expect(finalized).toBe(1);
  });

  it('lets complete handlers emit before completing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const count = operate<string, number>((out, source) => {
        let n = 0;
        return source.subscribe(
          handle(out, {
            next: () => void n++,
            complete: (o) => {
              o.next(n);
              o.complete();
            },
          }),
        );
      });
      expectObservable(cold('-a-b-|').pipe(count)).toBe('-----(c|)', { c: 2 });
    });
  });
});
