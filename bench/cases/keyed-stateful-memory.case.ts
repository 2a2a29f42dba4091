// Keyed count (stateful, 1M events, 10k keys) in memory, against the same count hand-written in RxJS.
export default {
  name: 'keyed-stateful-memory',
  ours: { label: 'stateful node, no state store', script: 'bench/sides/keyed-stateful.ts', args: ['memory', '1000000', '10000'] },
  anchor: {
    label: 'hand-written RxJS pipe counting in a Map',
    script: 'bench/sides/keyed-stateful.ts',
    args: ['rxjs', '1000000', '10000'],
  },
  note: 'events/s in the side output (eventsPerSec); the network adds its fused pipe, counters and the stateful bookkeeping',
};
