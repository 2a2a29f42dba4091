/**
 * Side: source → where → map → summing sink as a Tributary network over N integers.
 * Args: N [event]. With `event` every function also reads its event (declares and uses a second
 * parameter), so the chain makes every event instead of running on bare payloads.
 * Anchor: linear-pipe.ts (linear-event-pipe.ts with `event`).
 */
import 'reflect-metadata';
import { Network, nodes, type Event } from '../../lib/index';
import { intArg, timed } from './report';

const N = intArg(0, 1_000_000);
const readsEvent = process.argv[3] === 'event';
const data = Array.from({ length: N }, (_, i) => i);
const quiet = { warn: () => undefined, error: () => undefined };

async function run(): Promise<number> {
  let sum = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', nodes.from({ items: data }));
  if (readsEvent) {
    // Each reads its event's time (0 or more), which a pipe over event objects has at hand too.
    net.add('even', nodes.where({ fn: (n: number, e: Event) => n % 2 === 0 && e.meta.time >= 0 }));
    net.add('triple', nodes.map({ fn: (n: number, e: Event) => (e.meta.time >= 0 ? n * 3 : NaN) }));
    net.add(
      'sum',
      nodes.sink({
        fn: (n: number, e: Event) => {
          if (e.meta.time >= 0) sum += n;
        },
      }),
    );
  } else {
    net.add('even', nodes.where({ fn: (n: number) => n % 2 === 0 }));
    net.add('triple', nodes.map({ fn: (n: number) => n * 3 }));
    net.add(
      'sum',
      nodes.sink({
        fn: (n: number) => {
          sum += n;
        },
      }),
    );
  }
  net.link('numbers', 'even').link('even', 'triple').link('triple', 'sum');
  await net.start();
  await net.done();
  return sum;
}

void timed(run, (result) => ({ result }));
