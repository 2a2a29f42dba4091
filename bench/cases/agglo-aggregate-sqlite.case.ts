// `aggregate` vs a hand-written RxJS concatMap doing the same store operations, on SQLite (a
// fresh file per run): what the node costs when each update is a transaction.
const script = 'bench/sides/agglo-aggregate.ts';
export default {
  name: 'agglo-aggregate-sqlite',
  ours: { label: 'network: from → aggregate → sink (SQLite store)', script, args: ['ours', 'sqlite:', '2000'] },
  anchor: { label: 'hand-written RxJS concatMap, same store ops (SQLite store)', script, args: ['anchor', 'sqlite:', '2000'] },
  target: 1.1,
  note: 'per event: read state, one checked batch (a transaction) with the applied record',
};
