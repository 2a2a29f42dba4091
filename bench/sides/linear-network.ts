/**
 * Side: source → where → map → summing sink as a Tributary network over N integers.
 * Args: N. Anchor: linear-pipe.ts.
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
  net.link('numbers', 'even').link('even', 'triple').link('triple', 'sum');
  await net.start();
  await net.done();
  return sum;
}

void timed(run, (result) => ({ result }));
