// One side of the keyed-stateful bench cases: a keyed count over EVENTS events with KEYS keys.
//   rxjs    — a hand-written RxJS pipe counting in a Map (the anchor for the in-memory node)
//   memory  — a network: from → stateful (count per key) → discarder, no state store
//   sqlite  — the same network with state { store: sqlite file, checkpointInterval: '1s' }
// Prints one JSON line: { ms, rssMb, eventsPerSec, checkpoints }.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map, Observable } from 'rxjs';
import { Network, nodes } from '../../lib/index';
import { openStateStore } from '../../lib/state/open';
import { stateful } from '../../lib/state/stateful';

const mode = process.argv[2] ?? 'memory';
const EVENTS = Number(process.argv[3] ?? 1_000_000);
const KEYS = Number(process.argv[4] ?? 10_000);

/** The input in chunks of 1000 per macrotask, as a bus delivers it: timers (checkpoints) run in between. */
function chunked<T>(items: T[]): Observable<T> {
  return new Observable<T>((sub) => {
    let i = 0;
    let stopped = false;
    const step = () => {
      if (stopped) return;
      const end = Math.min(items.length, i + 1000);
      while (i < end) sub.next(items[i++]);
      if (i < items.length) setImmediate(step);
      else sub.complete();
    };
    setImmediate(step);
    return () => (stopped = true);
  });
}

async function main(): Promise<void> {
  const items = Array.from({ length: EVENTS }, (_, i) => ({ k: `c${i % KEYS}` }));
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  let ms: number;
  let checkpoints = 0;
  if (mode === 'rxjs') {
    const counts = new Map<string, number>();
    const t0 = performance.now();
    await new Promise<void>((resolve) =>
      chunked(items)
        .pipe(
          map((p) => {
            const n = (counts.get(p.k) ?? 0) + 1;
            counts.set(p.k, n);
            return n;
          }),
        )
        .subscribe({ complete: resolve }),
    );
    ms = performance.now() - t0;
    if (counts.size !== KEYS) throw new Error('wrong count');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tb-bench-state-'));
    const store = mode === 'sqlite' ? await openStateStore(`sqlite:${join(dir, 'state.db')}`) : undefined;
    const net = new Network({ ...(store ? { state: { store, checkpointInterval: '1s' } } : {}) });
    net.add('in', chunked(items));
    net.add('count', stateful({ key: 'k', fn: (n: number | undefined) => ({ state: (n ?? 0) + 1 }) }));
    net.add('out', nodes.discarder());
    net.link('in', 'count');
    net.link('count', 'out');
    const t0 = performance.now();
    await net.start();
    await net.done(); // includes the last checkpoint with a store
    ms = performance.now() - t0;
    checkpoints = net.checkpointStats()?.written ?? 0;
    if (store) {
      let keys = 0;
      let total = 0;
      for await (const [, v] of store.list<{ s: number }>('count/k/')) {
        keys++;
        total += v.value.s;
      }
      if (keys !== KEYS || total !== EVENTS) throw new Error(`store holds ${keys} keys, ${total} counted`);
      await store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    JSON.stringify({ ms: Math.round(ms), rssMb: Math.round(peak / 2 ** 20), eventsPerSec: Math.round(EVENTS / (ms / 1000)), checkpoints }),
  );
}

void main();
