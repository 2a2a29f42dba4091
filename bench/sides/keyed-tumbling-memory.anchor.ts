/**
 * Anchor: the same keyed tumbling count written by hand in plain RxJS — events made from the
 * same bets, a Map of per-customer counts per window, results (the same payload shape, as
 * events) emitted when event time passes a window's end, the rest at completion.
 */
import { from, map, Observable, type OperatorFunction } from 'rxjs';
import { createEvent, type Event } from '../../lib';
import { bets, report, SIZE_MS, startTimer, type BenchBet } from './keyed-tumbling-input';

interface Win {
  start: number;
  counts: Map<string, number>;
}

function tumblingCount(): OperatorFunction<Event<BenchBet>, Event> {
  return (source) =>
    new Observable<Event>((out) => {
      const open = new Map<number, Win>();
      let maxT = -Infinity;
      const fire = (w: Win) => {
        for (const [key, count] of w.counts)
          out.next(createEvent({ key, start: w.start, end: w.start + SIZE_MS, count, value: count }, { time: w.start + SIZE_MS - 1, key }));
        open.delete(w.start);
      };
      return source.subscribe({
        next(e) {
          const t = e.payload.placed_at;
          const start = Math.floor(t / SIZE_MS) * SIZE_MS;
          let w = open.get(start);
          if (!w) open.set(start, (w = { start, counts: new Map() }));
          w.counts.set(e.payload.customer, (w.counts.get(e.payload.customer) ?? 0) + 1);
          if (t > maxT) {
            maxT = t;
            for (const o of open.values()) if (o.start + SIZE_MS <= maxT) fire(o);
          }
        },
        error: (err) => out.error(err),
        complete() {
          for (const o of [...open.values()].sort((a, b) => a.start - b.start)) fire(o);
          out.complete();
        },
      });
    });
}

function main() {
  const input = bets();
  let results = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const stop = startTimer();
  from(input)
    .pipe(
      // A source stamps each event with the clock, as the network's from does.
      map((b) => createEvent(b, { time: Date.now() })),
      tumblingCount(),
    )
    .subscribe(() => void results++);
  const time = stop();
  report(time, results, process.memoryUsage().rss);
}

main();
