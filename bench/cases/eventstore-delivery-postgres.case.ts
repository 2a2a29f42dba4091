// Event store (reliable delivery of 20k events on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset); ours adds latencyP50Ms/latencyP99Ms (commit to consumer)).
export default {
  name: 'eventstore-delivery-postgres',
  ours: { label: 'event store', script: 'bench/sides/eventstore-delivery.ts', args: ['postgres', 'ours', '20000'] },
  anchor: {
    label: 'hand-written SELECT-by-id loop + pointer UPDATE',
    script: 'bench/sides/eventstore-delivery.ts',
    args: ['postgres', 'anchor', '20000'],
  },
  note: 'reliable delivery of 20k events on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset); ours adds latencyP50Ms/latencyP99Ms (commit to consumer)',
};
