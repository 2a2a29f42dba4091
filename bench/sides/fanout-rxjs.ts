/**
 * Anchor side: the same work as fanout-network.ts in plain RxJS — a real multicast
 * (`connectable` over a Subject, so the source runs once) feeding three maps, `merge`d into
 * one summing subscriber. Args: N.
 */
import { Subject, connectable, from, map, merge } from 'rxjs';
import { intArg, timed } from './report';
// Loaded but unused, so both sides carry the same modules and their peak RSS compares the work only.
import '../../lib/index';

const N = intArg(0, 1_000_000);
const data = Array.from({ length: N }, (_, i) => i);

function run(): Promise<number> {
  let sum = 0;
  return new Promise((resolve, reject) => {
    const shared = connectable(from(data), { connector: () => new Subject<number>(), resetOnDisconnect: false });
    merge(shared.pipe(map((n) => n + 1)), shared.pipe(map((n) => n * 2)), shared.pipe(map((n) => n - 1))).subscribe({
      next: (n) => {
        sum += n;
      },
      error: reject,
      complete: () => resolve(sum),
    });
    shared.connect();
  });
}

void timed(run, (result) => ({ result }));
