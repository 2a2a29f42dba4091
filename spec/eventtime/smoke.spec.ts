import { eventtime } from '../../lib/eventtime';
import { bet, marbles, res, timeline } from './support';

it('smoke', () => {
  marbles(eventtime.tumblingWindow({ size: 10, timeField: 't', key: 'k' }), ({ cold, expectObservable }, op) => {
    const v = { a: bet(1), b: bet(4, 'y'), c: bet(12), d: bet(25, 'y') };
    expectObservable(cold('a 9ms b 9ms c 9ms d 9ms |', v).pipe(op)).toBe(timeline([20, 'A', 'B'], [30, 'C'], [40, 'D', '|']), {
      A: res('x', 0, 10, 1),
      B: res('y', 0, 10, 1),
      C: res('x', 10, 20, 1),
      D: res('y', 20, 30, 1),
    });
  });
});
