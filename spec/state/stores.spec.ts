import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import IORedis from 'ioredis';
import { join } from 'path';
import { DataSource } from 'typeorm';
import { TributaryError } from '../../lib/errors';
import { openStateStore } from '../../lib/state/open';
import type { KeyValueStore } from '../../lib/state/types';
import { storeConformance, type StoreFixture } from './conformance';

let seq = 0;
const run = `${process.pid}_${Date.now().toString(36)}`;

describe('memory: store', () => {
  storeConformance(() => ({ shared: false, open: (now) => openStateStore('memory:', { now }) }));
});

describe('sqlite::memory: store', () => {
  storeConformance(() => ({ shared: false, open: (now) => openStateStore('sqlite::memory:', { now }) }));
});

describe('sqlite file store', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tb-state-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let file = '';
  beforeEach(() => {
    file = join(dir, `s${++seq}.db`);
  });
  storeConformance(() => ({ shared: true, open: (now) => openStateStore(`sqlite:${file}`, { now }) }));

  it('keeps entries across a reopen of the file', async () => {
    const a = await openStateStore(`sqlite:${file}`);
    await a.put('k', { n: 1 });
    await a.close();
    const b = await openStateStore(`sqlite:${file}`);
    expect(await b.get('k')).toEqual({ value: { n: 1 }, version: 1 });
    await b.close();
  });
});

/** A server store on a table/prefix of its own per test, dropped afterwards. */
function serverFixture(url: string, param: 'table' | 'prefix'): () => StoreFixture {
  let name = '';
  beforeEach(() => {
    name = param === 'table' ? `state_conf_${run}_${++seq}` : `state:conf:${run}:${++seq}:`;
  });
  return () => ({
    shared: true,
    open: (now) => openStateStore(`${url}${url.includes('?') ? '&' : '?'}${param}=${encodeURIComponent(name)}`, { now }),
  });
}

const MYSQL = process.env.TRIBUTARY_MYSQL_URL;
const PG = process.env.TRIBUTARY_PG_URL;
const REDIS = process.env.TRIBUTARY_REDIS_URL;

(MYSQL ? describe : describe.skip)(`MariaDB/MySQL store ${MYSQL ?? '(set TRIBUTARY_MYSQL_URL to run)'}`, () => {
  storeConformance(serverFixture(MYSQL ?? '', 'table'));
  afterAll(async () => dropTables(MYSQL ?? ''));
});

(PG ? describe : describe.skip)(`PostgreSQL store ${PG ?? '(set TRIBUTARY_PG_URL to run)'}`, () => {
  storeConformance(serverFixture(PG ?? '', 'table'));
  afterAll(async () => dropTables(PG ?? ''));
});

(REDIS ? describe : describe.skip)(`Redis store ${REDIS ?? '(set TRIBUTARY_REDIS_URL to run)'}`, () => {
  storeConformance(serverFixture(REDIS ?? '', 'prefix'));
  afterAll(async () => {
    const r = new IORedis(REDIS ?? '');
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `state:conf:${run}:*`, 'COUNT', 1000);
      if (keys.length) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await r.quit();
  });
});

async function dropTables(url: string): Promise<void> {
  const pg = url.startsWith('postgres');
  const ds = new DataSource(pg ? { type: 'postgres', url } : { type: 'mysql', url });
  await ds.initialize();
  const rows: Array<{ name: string }> = await ds.query(
    pg
      ? `SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'state_conf_${run}_%'`
      : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE 'state_conf_${run}_%'`,
  );
  for (const r of rows) await ds.query(`DROP TABLE ${pg ? `"${r.name}"` : `\`${r.name}\``}`);
  await ds.destroy();
}

describe('openStateStore', () => {
  it('rejects an unsupported URL, naming the supported ones and hiding the password', async () => {
    const e = await openStateStore('ftp://me:hunter2@host/x').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as Error).message).toMatch(/unsupported URL 'ftp:\/\/me:\*\*\*@host\/x'.*memory:.*sqlite:.*mysql:.*postgres:.*redis:/);
    expect((e as Error).message).not.toContain('hunter2');
    await expect(openStateStore('')).rejects.toThrow(/a URL is required/);
  });

  it('reports a server it cannot reach without the password', async () => {
    for (const url of ['mysql://root:hunter2@127.0.0.1:1/test', 'postgres://pg:hunter2@127.0.0.1:1/test', 'redis://:hunter2@127.0.0.1:1']) {
      const e = await openStateStore(url).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TributaryError);
      expect((e as Error).message).toMatch(/cannot open '.*:\*\*\*@127\.0\.0\.1:1/);
      expect((e as Error).message).not.toContain('hunter2');
    }
  });

  it('rejects a table name that is not an identifier', async () => {
    await expect(openStateStore('sqlite::memory:?table=x;drop')).rejects.toThrow(/table 'x;drop'.*letters, digits and underscores/);
  });

  it('shows the URL without its password', async () => {
    const kv: KeyValueStore = await openStateStore('sqlite::memory:');
    expect(kv.url).toBe('sqlite::memory:');
    await kv.close();
  });

  (REDIS ? it : it.skip)('shows a Redis URL with its password as ***', async () => {
    const u = new URL(REDIS ?? 'redis://127.0.0.1:6379');
    u.password = 'hunter2';
    // The shared server has no password: ioredis warns and connects anyway.
    const kv = await openStateStore(u.toString());
    expect(kv.url).toContain(':***@');
    expect(kv.url).not.toContain('hunter2');
    await kv.close();
  });
});
