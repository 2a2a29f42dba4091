// Event store (one event per transaction on sqlite).
export default {
  name: 'eventstore-single-sqlite',
  ours: { label: 'event store', script: 'bench/sides/eventstore-record.ts', args: ['sqlite', 'ours', '1', '2000'] },
  anchor: {
    label: 'plain INSERT of the same row per transaction',
    script: 'bench/sides/eventstore-record.ts',
    args: ['sqlite', 'anchor', '1', '2000'],
  },
  note: 'one event per transaction on sqlite',
};
