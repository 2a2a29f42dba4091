/**
 * Keyed tumbling count in memory: 1M bets, 10k customers, one-minute event-time windows
 * (`tumbling_window` in a network) against the same count hand-written in plain RxJS with a
 * Map. Each side prints `{ ms, rssMb, eventsPerSec, results }`; both must produce the same
 * number of results.
 */
export default {
  name: 'keyed-tumbling-memory',
  ours: { label: 'tumbling_window (network: from → window → sink)', script: 'bench/sides/keyed-tumbling-memory.ours.ts' },
  anchor: { label: 'hand-written Map-based tumbling count in plain RxJS', script: 'bench/sides/keyed-tumbling-memory.anchor.ts' },
  note: 'events/s = 1M / ms; the anchor does the same keyed count and emits the same result events, without watermark, lateness, late route, delivery handling or checkpoint hooks',
};
