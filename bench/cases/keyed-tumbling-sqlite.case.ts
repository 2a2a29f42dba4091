/**
 * What checkpointing costs a keyed tumbling count (1M bets, 10k customers, one-minute windows):
 * the same network with its window state checkpointed to SQLite every second (and at the end)
 * against no checkpoints. Both sides print events/s; the ratio is the overhead.
 */
export default {
  name: 'keyed-tumbling-sqlite',
  ours: {
    label: 'tumbling_window, state checkpointed to SQLite every 1 s',
    script: 'bench/sides/keyed-tumbling-checkpoint.ts',
    args: ['sqlite'],
  },
  anchor: { label: 'the same network without checkpoints', script: 'bench/sides/keyed-tumbling-checkpoint.ts', args: ['memory'] },
  note: 'the ratio is the cost of checkpointing (state and source positions written in one transaction per checkpoint)',
};
