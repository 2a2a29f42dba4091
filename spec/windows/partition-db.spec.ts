// Each partition of a partitioned group run keeps its SQL windows in its own database
// (lib/windows/partition-db.ts): otherwise every partition's query would read every partition's rows.
import { ensurePartitionDatabase, partitionWindowUrl } from '../../lib/windows/partition-db';
import { openWindowStore } from '../../lib/windows/store';

describe('partitionWindowUrl', () => {
  it('gives each partition its own SQLite file, PostgreSQL schema or MySQL database', () => {
    expect(partitionWindowUrl('sqlite:./tb.db', 3)).toBe('sqlite:./tb.p3.db');
    expect(partitionWindowUrl('sqlite:/var/lib/tb/windows', 0)).toBe('sqlite:/var/lib/tb/windows.p0');
    expect(partitionWindowUrl('sqlite:./data.v2/tb', 1)).toBe('sqlite:./data.v2/tb.p1');
    expect(partitionWindowUrl('sqlite::memory:', 5)).toBe('sqlite::memory:');
    expect(partitionWindowUrl('postgres://app:pw@db:5432/tb?schema=win&sslmode=require', 3)).toBe(
      'postgres://app:pw@db:5432/tb?sslmode=require&schema=win_p3',
    );
    expect(partitionWindowUrl('postgres://app@db/tb', 2)).toBe('postgres://app@db/tb?schema=public_p2');
    expect(partitionWindowUrl('mysql://root@127.0.0.1:3306/test', 15)).toBe('mysql://root@127.0.0.1:3306/test_p15');
    expect(partitionWindowUrl('mariadb://u:pw@h/tb?ssl=true', 4)).toBe('mariadb://u:pw@h/tb_p4?ssl=true');
  });

  it('refuses what it cannot name safely, without showing the password', () => {
    expect(() => partitionWindowUrl('mysql://u:secret@h/bad-name', 1)).toThrow(/database 'bad-name' in 'mysql:\/\/u:\*\*\*@h\/bad-name'/);
    expect(() => partitionWindowUrl('mysql://u:secret@h/bad-name', 1)).not.toThrow(/secret/);
    expect(() => partitionWindowUrl('sqlite:./tb.db', -1)).toThrow(/partition index/);
    expect(() => partitionWindowUrl('mongodb://h/db', 1)).toThrow(/unsupported URL/);
  });
});

const PG = process.env.TRIBUTARY_PG_URL;
const MYSQL = process.env.TRIBUTARY_MYSQL_URL;
const suffix = `${process.pid}_${Date.now() % 100000}`;

/** Two partitions write a row each into the same table name; each reads back only its own. */
async function apart(url: string): Promise<void> {
  const urls = [0, 1].map((i) => partitionWindowUrl(url, i));
  const stores = [];
  for (const u of urls) {
    await ensurePartitionDatabase(u);
    await ensurePartitionDatabase(u); // again: already there is fine
    stores.push(await openWindowStore({ url: u }));
  }
  try {
    for (const [i, s] of stores.entries()) {
      await s.query('CREATE TABLE IF NOT EXISTS tb_part_probe (p INTEGER)');
      await s.query('DELETE FROM tb_part_probe');
      await s.query(`INSERT INTO tb_part_probe (p) VALUES (${i})`);
    }
    for (const [i, s] of stores.entries()) expect(await s.query('SELECT p FROM tb_part_probe')).toEqual([{ p: i }]);
  } finally {
    for (const s of stores) {
      await s.query('DROP TABLE IF EXISTS tb_part_probe');
      await s.close();
    }
  }
}

(PG ? describe : describe.skip)('ensurePartitionDatabase on PostgreSQL (TRIBUTARY_PG_URL)', () => {
  it("creates the partition schema; partitions do not see each other's rows", async () => {
    const base = `${PG!}${PG!.includes('?') ? '&' : '?'}schema=tbpart_${suffix}`;
    try {
      await apart(base);
    } finally {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { Client } = require('pg') as typeof import('pg');
      const c = new Client({ connectionString: PG });
      await c.connect();
      for (const i of [0, 1]) await c.query(`DROP SCHEMA IF EXISTS "tbpart_${suffix}_p${i}" CASCADE`);
      await c.end();
    }
  }, 60_000);
});

(MYSQL ? describe : describe.skip)('ensurePartitionDatabase on MariaDB (TRIBUTARY_MYSQL_URL)', () => {
  it("creates the partition database; partitions do not see each other's rows", async () => {
    await apart(MYSQL!);
  }, 60_000);
});
