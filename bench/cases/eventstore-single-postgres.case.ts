// Event store (one event per transaction on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset)).
export default {
  name: 'eventstore-single-postgres',
  ours: { label: 'event store', script: 'bench/sides/eventstore-record.ts', args: ['postgres', 'ours', '1', '2000'] },
  anchor: {
    label: 'plain INSERT of the same row per transaction',
    script: 'bench/sides/eventstore-record.ts',
    args: ['postgres', 'anchor', '1', '2000'],
  },
  note: 'one event per transaction on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset)',
};
