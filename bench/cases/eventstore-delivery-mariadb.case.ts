// Event store (reliable delivery of 20k events on mariadb; needs TRIBUTARY_MYSQL_URL (the sides exit 3 when it is unset); ours adds latencyP50Ms/latencyP99Ms (commit to consumer)).
export default {
  name: 'eventstore-delivery-mariadb',
  ours: { label: 'event store', script: 'bench/sides/eventstore-delivery.ts', args: ['mariadb', 'ours', '20000'] },
  anchor: {
    label: 'hand-written SELECT-by-id loop + pointer UPDATE',
    script: 'bench/sides/eventstore-delivery.ts',
    args: ['mariadb', 'anchor', '20000'],
  },
  note: 'reliable delivery of 20k events on mariadb; needs TRIBUTARY_MYSQL_URL (the sides exit 3 when it is unset); ours adds latencyP50Ms/latencyP99Ms (commit to consumer)',
};
