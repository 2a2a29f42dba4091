// The checkpoint overhead: the keyed count (1M events, 10k keys) checkpointed to a SQLite file every
// 1 s (and at the end, included in the time), against the same network without a state store.
export default {
  name: 'keyed-stateful-sqlite',
  ours: {
    label: 'stateful + SQLite store, checkpoint every 1s',
    script: 'bench/sides/keyed-stateful.ts',
    args: ['sqlite', '1000000', '10000'],
  },
  anchor: { label: 'stateful, no state store (in memory)', script: 'bench/sides/keyed-stateful.ts', args: ['memory', '1000000', '10000'] },
  note: 'the ratio is the checkpoint overhead; eventsPerSec and checkpoints are in the side output',
};
