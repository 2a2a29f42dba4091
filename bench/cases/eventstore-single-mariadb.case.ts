// Event store (one event per transaction on mariadb; needs TRIBUTARY_MYSQL_URL (the sides exit 3 when it is unset)).
export default {
  name: 'eventstore-single-mariadb',
  ours: { label: 'event store', script: 'bench/sides/eventstore-record.ts', args: ['mariadb', 'ours', '1', '2000'] },
  anchor: {
    label: 'plain INSERT of the same row per transaction',
    script: 'bench/sides/eventstore-record.ts',
    args: ['mariadb', 'anchor', '1', '2000'],
  },
  note: 'one event per transaction on mariadb; needs TRIBUTARY_MYSQL_URL (the sides exit 3 when it is unset)',
};
