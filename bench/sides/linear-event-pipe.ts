/**
 * Anchor side for the `linear-1m-events` case: the work of `linear-network.ts N event` (every
 * function reads its event's time) as a hand-written RxJS pipe over the same event objects a
 * network carries (one `eventAt` per item, a new event per `map` with `withPayload`), without
 * the network's counters, acks or probes. It tells what the engine adds on the event path.
 * Args: N.
 */
import { filter, from, map } from 'rxjs';
import { eventAt, withPayload, type Event } from '../../lib/event';
import { intArg, timed } from './report';
// Loaded but unused, so both sides carry the same modules and their peak RSS compares the work only.
import '../../lib/index';

const N = intArg(0, 1_000_000);
const data = Array.from({ length: N }, (_, i) => i);

function run(): Promise<number> {
  let sum = 0;
  return new Promise((resolve, reject) =>
    from(data)
      .pipe(
        map((n) => eventAt(n, 0)),
        filter((e: Event<number>) => e.payload % 2 === 0 && e.meta.time >= 0),
        map((e: Event<number>) => withPayload(e, e.meta.time >= 0 ? e.payload * 3 : NaN)),
      )
      .subscribe({
        next: (e) => {
          if (e.meta.time >= 0) sum += e.payload;
        },
        error: reject,
        complete: () => resolve(sum),
      }),
  );
}

void timed(run, (result) => ({ result }));
