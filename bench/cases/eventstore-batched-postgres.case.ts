// Event store (100 events per transaction on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset)).
export default {
  name: 'eventstore-batched-postgres',
  ours: { label: 'event store', script: 'bench/sides/eventstore-record.ts', args: ['postgres', 'ours', '100', '20000'] },
  anchor: {
    label: 'plain multi-row INSERT of the same rows',
    script: 'bench/sides/eventstore-record.ts',
    args: ['postgres', 'anchor', '100', '20000'],
  },
  note: '100 events per transaction on postgres; needs TRIBUTARY_PG_URL (the sides exit 3 when it is unset)',
};
