/**
 * Side: one source fanned out to three maps, fanned in to one summing sink, as a Tributary
 * network over N integers. Args: N. Anchor: fanout-rxjs.ts.
 */
import 'reflect-metadata';
import { Network, nodes } from '../../lib/index';
import { intArg, timed } from './report';

const N = intArg(0, 1_000_000);
const data = Array.from({ length: N }, (_, i) => i);
const quiet = { warn: () => undefined, error: () => undefined };

async function run(): Promise<number> {
  let sum = 0;
  const net = new Network({ logger: quiet });
  net.add('numbers', nodes.from({ items: data }));
  net.add('a', nodes.map({ fn: (n: number) => n + 1 }));
  net.add('b', nodes.map({ fn: (n: number) => n * 2 }));
  net.add('c', nodes.map({ fn: (n: number) => n - 1 }));
  net.add(
    'sum',
    nodes.sink({
      fn: (n: number) => {
        sum += n;
      },
    }),
  );
  net.fanout('numbers', 'a', 'b', 'c');
  net.fanin('sum', 'a', 'b', 'c');
  await net.start();
  await net.done();
  return sum;
}

void timed(run, (result) => ({ result }));
