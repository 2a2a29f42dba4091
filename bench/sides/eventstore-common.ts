/** Shared set-up of the event store bench sides: the database by name, a unique table prefix, clean-up. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EventStore, eventStoreDataSourceOptions } from '../../lib/eventstore';
import { Sql, dialectOfType } from '../../lib/eventstore/dialect';

const ENV: Record<string, string> = { mariadb: 'TRIBUTARY_MYSQL_URL', postgres: 'TRIBUTARY_PG_URL' };

/** The URL of a bench database: a fresh SQLite file, or the server from its env var. */
export function benchUrl(db: string): { url: string; cleanup: () => void } {
  if (db === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tb-bench-es-'));
    return { url: `sqlite:${join(dir, 'bench.db')}`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = process.env[ENV[db] ?? ''];
  if (!url) {
    console.error(`${ENV[db] ?? db} is not set: this database is skipped`);
    process.exit(3);
  }
  return { url, cleanup: () => undefined };
}

/** Opens the store (ours) and a plain DataSource with a plain table of the same row (the anchor). */
export async function openBench(db: string) {
  const { url, cleanup } = benchUrl(db);
  const prefix = `bench_${process.pid}_`;
  const store = await EventStore.open({ url, prefix });
  const ds = store.dataSource;
  const sql = new Sql(dialectOfType(ds.options.type));
  const plain = `${prefix}plain`;
  const ddl =
    sql.dialect === 'sqlite'
      ? `CREATE TABLE ${plain} (id INTEGER PRIMARY KEY AUTOINCREMENT, type VARCHAR(16) NOT NULL, data TEXT NOT NULL, ts BIGINT NOT NULL)`
      : sql.dialect === 'mysql'
        ? `CREATE TABLE ${plain} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, type VARCHAR(16) NOT NULL, data LONGTEXT NOT NULL, ts BIGINT NOT NULL) ENGINE=InnoDB`
        : `CREATE TABLE ${plain} (id BIGSERIAL PRIMARY KEY, type VARCHAR(16) NOT NULL, data JSON NOT NULL, ts BIGINT NOT NULL)`;
  await ds.query(ddl);
  await ds.query(`CREATE TABLE ${prefix}pointer (id INT PRIMARY KEY, last_id BIGINT NOT NULL)`);
  await ds.query(`INSERT INTO ${prefix}pointer (id, last_id) VALUES (1, 0)`);
  const close = async () => {
    await store.close().catch(() => undefined);
    if (sql.dialect !== 'sqlite') {
      const d = new DataSource(eventStoreDataSourceOptions(url));
      await d.initialize();
      for (const t of ['queue', 'consumers', 'sequence', 'plain', 'pointer']) await d.query(`DROP TABLE IF EXISTS ${prefix}${t}`);
      await d.destroy();
    }
    cleanup();
  };
  return { store, ds, sql, plain, prefix, close };
}

/** The row every side records: a typical order event. */
export const sample = (i: number) => ({ order: i, customer: `c${i % 97}`, amount: (i * 37) % 1000, items: [{ sku: 'A-1', qty: 2 }] });

/** Prints the side's report (its last stdout line). */
export function report(ms: number, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ ms: Math.round(ms * 100) / 100, rssMb: Math.round(process.memoryUsage().rss / 1048576), ...extra }));
}
