/**
 * Anchor side: the same work as linear-network.ts as one hand-written RxJS pipe
 * (from → filter → map → subscribe summing). Args: N.
 */
import { filter, from, map } from 'rxjs';
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
        filter((n) => n % 2 === 0),
        map((n) => n * 3),
      )
      .subscribe({
        next: (n) => {
          sum += n;
        },
        error: reject,
        complete: () => resolve(sum),
      }),
  );
}

void timed(run, (result) => ({ result }));
