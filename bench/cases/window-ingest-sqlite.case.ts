/**
 * SQLite window ingest, one row per event: 100,000 events through source → window →
 * discarder on an SQLite file (WAL), until every row is committed, against the sqlite3
 * driver's own multi-row INSERT (1000 rows per statement and transaction) of the same rows
 * into the same table. Target: ours ≤ 1.25× the anchor's time (≥ 0.8× its throughput).
 * Both sides also report cpuMs (every thread), steadier than wall time on a loaded machine.
 */
const windowIngestSqlite = {
  name: 'window-ingest-sqlite',
  ours: { label: 'window node, 1 row per event', script: 'bench/sides/window-ingest-network.ts', args: ['100000'] },
  anchor: { label: 'sqlite3 driver multi-row INSERT', script: 'bench/sides/window-ingest-sqlite3.ts', args: ['100000'] },
  target: 1.25,
};

export default windowIngestSqlite;
