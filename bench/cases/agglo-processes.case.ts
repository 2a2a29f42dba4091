// agglo's annotate → transform → continue as node kinds (options = agglo's protobuf-JSON, the
// conditions compiled to closures) vs the same work hand-written in one RxJS pipe.
const script = 'bench/sides/agglo-processes.ts';
export default {
  name: 'agglo-processes',
  ours: { label: 'network: from → annotate → transform → continue → sink (agglo kinds)', script, args: ['ours', '200000'] },
  anchor: { label: 'hand-written RxJS pipe: same copies, predicate, regex replace, filter', script, args: ['anchor', '200000'] },
  target: 2,
  note: 'per event: a deep copy per process (as agglo), one nested comparison, one regex replace, one numeric comparison',
};
