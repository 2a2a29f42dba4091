import { declareIgnoresEvent, ignoresEvent } from '../../lib/util/arity';

/* eslint-disable prefer-rest-params, @typescript-eslint/no-unused-vars */
describe('ignoresEvent: may a node function be called with the payload alone?', () => {
  const yes: [string, (...args: never[]) => unknown][] = [
    ['a one-parameter arrow', (n: number) => n * 2],
    ['an arrow without parentheses', new Function('return n => n + 1')() as (n: number) => number],
    ['an arrow with no parameter', () => 1],
    ['an async arrow', async (n: number) => n],
    [
      'a function expression',
      function double(n: number) {
        return n * 2;
      },
    ],
    [
      'a method',
      {
        m(n: number) {
          return n;
        },
      }.m,
    ],
    ['a destructured object parameter', ({ a, b }: { a: number; b: number }) => a + b],
    ['a destructured array parameter with a default', ([a, b]: number[] = [1, 2]) => a + b],
    ['a single parameter with a default holding a comma', (a = Math.max(1, 2)) => a],
    ['a function made by the Function constructor', new Function('a', 'return a') as (a: number) => number],
    ['a wrapper declared to ignore it', declareIgnoresEvent((a: unknown, b?: unknown, ...rest: unknown[]) => a)],
  ];
  const no: [string, unknown][] = [
    ['a second parameter', (p: unknown, e: unknown) => e],
    ['a second parameter behind a default (fn.length is 1)', (a: number, b = 1) => a + b],
    ['a rest parameter', (...args: unknown[]) => args[1]],
    ['a rest parameter after the payload', (a: unknown, ...more: unknown[]) => more[0]],
    [
      'arguments',
      function (this: unknown) {
        return arguments[1] as unknown;
      },
    ],
    ['a bound function (its source text is not shown)', ((a: number) => a).bind(null)],
    ['a native function', Math.abs],
    ['a proxy', new Proxy((a: number) => a, {})],
    ['a string in the parameter list', (a = 'x,y') => a],
    ['not a function', 42],
  ];

  it.each(yes)('answers true for %s', (_what, fn) => {
    expect(ignoresEvent(fn)).toBe(true);
  });

  it.each(no)('answers false for %s', (_what, fn) => {
    expect(ignoresEvent(fn as (...args: never[]) => unknown)).toBe(false);
  });
});
