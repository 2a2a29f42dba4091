/**
 * Ours: a network `from` (the bets as an Observable) → `tumbling_window` (keyed count, event
 * time from `placed_at`) → a counting sink. Timed from start to the drain.
 */
import { from } from 'rxjs';
import { Network, nodes } from '../../lib';
import { eventtime } from '../../lib/eventtime';
import { bets, report, SIZE_MS, startTimer } from './keyed-tumbling-input';

async function main() {
  const input = bets();
  let results = 0;
  let peak = process.memoryUsage().rss;
  const net = new Network({ logger: { warn: () => undefined, error: (m) => console.error(m) } });
  net.add('bets', nodes.from({ items: from(input) }));
  net.add('per_minute', eventtime.tumblingWindow({ size: SIZE_MS, key: 'customer', timeField: 'placed_at' }));
  net.add('count', nodes.sink({ fn: () => void results++ }));
  net.link('bets', 'per_minute');
  net.link('per_minute', 'count');
  (globalThis as { gc?: () => void }).gc?.();
  const stop = startTimer();
  await net.start();
  await net.done();
  const time = stop();
  peak = Math.max(peak, process.memoryUsage().rss);
  report(time, results, peak);
}

void main();
