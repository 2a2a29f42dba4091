/**
 * Drivers of the event store specs: a real SQLite file always; real MariaDB when
 * TRIBUTARY_MYSQL_URL is set and real PostgreSQL when TRIBUTARY_PG_URL is set. Each test gets
 * tables of its own (a unique prefix), dropped afterwards, so parallel spec files never share.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EventStore, eventStoreDataSourceOptions, type EventStoreOptions } from '../../lib/eventstore';

export interface StoreDriver {
  name: string;
  /** A URL of this database (for a second process or a second store). */
  url: string;
  /** Opens a store on fresh tables of this test. */
  open(options?: Omit<EventStoreOptions, 'url' | 'prefix'>): Promise<TestStore>;
}

export interface TestStore {
  store: EventStore;
  url: string;
  prefix: string;
  /** Another store on the same tables (a restart, another process's view). */
  reopen(options?: Omit<EventStoreOptions, 'url' | 'prefix'>): Promise<EventStore>;
  /** A DataSource of the application's own (the same database). */
  appDataSource(): Promise<DataSource>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

let seq = 0;
const unique = () => `outbox_${process.pid}_${++seq}_`;

function driver(name: string, url: () => string, dropTables: boolean): StoreDriver {
  return {
    name,
    get url() {
      return url();
    },
    async open(options = {}) {
      const u = url();
      const prefix = unique();
      const stores: EventStore[] = [];
      const sources: DataSource[] = [];
      const open = async (o: Omit<EventStoreOptions, 'url' | 'prefix'> = {}) => {
        const s = await EventStore.open({ ...o, url: o.dataSource ? undefined : u, prefix });
        stores.push(s);
        return s;
      };
      const store = await open(options);
      cleanups.push(async () => {
        for (const s of stores) await s.close();
        for (const d of sources) if (d.isInitialized) await d.destroy();
        if (dropTables) {
          const ds = new DataSource(eventStoreDataSourceOptions(u));
          await ds.initialize();
          for (const t of ['queue', 'consumers', 'sequence', 'history', 'orders', 'evt_queue', 'evt_consumers', 'evt_sequence'])
            await ds.query(`DROP TABLE IF EXISTS ${prefix}${t}`);
          await ds.destroy();
        }
      });
      return {
        store,
        url: u,
        prefix,
        reopen: open,
        async appDataSource() {
          const ds = new DataSource(eventStoreDataSourceOptions(u));
          await ds.initialize();
          sources.push(ds);
          return ds;
        },
      };
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tb-outbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh SQLite file URL (the test's own database). */
export const sqliteUrl = () => `sqlite:${join(dir, `store-${++files}.db`)}`;
const sqliteFile = driver('sqlite', sqliteUrl, false);

/** The drivers this run covers. */
export const drivers: StoreDriver[] = [
  sqliteFile,
  ...(process.env.TRIBUTARY_MYSQL_URL ? [driver('mariadb', () => process.env.TRIBUTARY_MYSQL_URL!, true)] : []),
  ...(process.env.TRIBUTARY_PG_URL ? [driver('postgres', () => process.env.TRIBUTARY_PG_URL!, true)] : []),
];

/** The server drivers only (commit-order races need concurrent writers). */
export const serverDrivers = drivers.filter((d) => d.name !== 'sqlite');

/** `describe.each` over the server drivers; skipped (with a note) when no server URL is set. */
export const eachServer: (title: string, fn: (driver: StoreDriver) => void) => void = (title, fn) => {
  if (serverDrivers.length) describe.each(serverDrivers)(title, fn);
  else
    describe.skip(`${title.replace('$name', 'MariaDB/PostgreSQL')} (set TRIBUTARY_MYSQL_URL or TRIBUTARY_PG_URL to run)`, () =>
      it('needs a server', () => undefined));
};
