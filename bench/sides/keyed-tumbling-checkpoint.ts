/**
 * A keyed tumbling count (1M bets, 10k customers, one-minute event-time windows) in a network
 * with or without checkpoints: `sqlite` checkpoints the window state to a fresh SQLite file every
 * second and at the end, `memory` takes none. The ratio is what checkpointing costs.
 * Args: `sqlite|memory`. Case: keyed-tumbling-sqlite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from } from 'rxjs';
import { Network, nodes } from '../../lib';
import { eventtime } from '../../lib/eventtime';
import { openStateStore } from '../../lib/state/open';
import type { KeyValueStore } from '../../lib/state/types';
import { bets, report, SIZE_MS, startTimer } from './keyed-tumbling-input';

async function main() {
  const checkpointed = process.argv[2] === 'sqlite';
  const input = bets();
  let results = 0;
  const dir = mkdtempSync(join(tmpdir(), 'tb-bench-ckpt-'));
  const store: KeyValueStore | undefined = checkpointed ? await openStateStore(`sqlite:${join(dir, 'state.db')}`) : undefined;
  const net = new Network({
    logger: { warn: () => undefined, error: (m) => console.error(m) },
    ...(store ? { state: { store, checkpointInterval: '1s' } } : {}),
  });
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
  const checkpoints = net.checkpointStats()?.written ?? 0;
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
  report(time, results, process.memoryUsage().rss, { checkpoints });
}

void main();
