// Event store (100 events per transaction on sqlite).
export default {
  name: 'eventstore-batched-sqlite',
  ours: { label: 'event store', script: 'bench/sides/eventstore-record.ts', args: ['sqlite', 'ours', '100', '20000'] },
  anchor: {
    label: 'plain multi-row INSERT of the same rows',
    script: 'bench/sides/eventstore-record.ts',
    args: ['sqlite', 'anchor', '100', '20000'],
  },
  note: '100 events per transaction on sqlite',
};
