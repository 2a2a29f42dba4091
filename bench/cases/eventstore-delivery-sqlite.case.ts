// Event store (reliable delivery of 20k events on sqlite; ours adds latencyP50Ms/latencyP99Ms (commit to consumer)).
export default {
  name: 'eventstore-delivery-sqlite',
  ours: { label: 'event store', script: 'bench/sides/eventstore-delivery.ts', args: ['sqlite', 'ours', '20000'] },
  anchor: {
    label: 'hand-written SELECT-by-id loop + pointer UPDATE',
    script: 'bench/sides/eventstore-delivery.ts',
    args: ['sqlite', 'anchor', '20000'],
  },
  note: 'reliable delivery of 20k events on sqlite; ours adds latencyP50Ms/latencyP99Ms (commit to consumer)',
};
