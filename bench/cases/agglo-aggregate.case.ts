// `aggregate` (sum per group, exactly-once records) in a network vs the same store operations in
// a hand-written RxJS concatMap, on the in-memory store (node overhead) and on SQLite.
const script = 'bench/sides/agglo-aggregate.ts';
export default {
  name: 'agglo-aggregate',
  ours: { label: 'network: from → aggregate → sink (memory store)', script, args: ['ours', 'memory:', '20000'] },
  anchor: { label: 'hand-written RxJS concatMap, same store ops (memory store)', script, args: ['anchor', 'memory:', '20000'] },
  target: 1.2,
  note: 'per event: read state and applied record, one checked batch; the anchor skips the node machinery only',
};
