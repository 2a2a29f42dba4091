/**
 * Shared helpers of the window specs.
 *
 * Drivers: every window spec runs once per driver — real SQLite in memory, real SQLite in a
 * temporary file, real MariaDB/MySQL when TRIBUTARY_MYSQL_URL is set (each test gets its own
 * database there, dropped afterwards, so parallel spec files never share tables) and real
 * PostgreSQL when TRIBUTARY_PG_URL is set (each test gets its own schema, `?schema=` in the
 * window URL, dropped afterwards).
 *
 * Virtual time with a real database: `VirtualTime.run` flushes the TestScheduler
 * synchronously, but inserts and queries are promises. Tests therefore drive the clock with
 * `VirtualClock` (lib/testing/clock.ts): it runs one scheduled frame at a time and awaits
 * `store.idle()` — until no database work is outstanding — before the next frame. A query
 * started at 10 s emits its rows while the clock still reads 10 s. No test sleeps or looks
 * at the wall clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { VirtualClock } from 'tributary/testing';
import { createDelivery, createEvent, Network, type Event, type SourceNode } from 'tributary';
import { openWindowStore, WINDOW_SERVICE, type WindowStore, type WindowStoreOptions, windowsPlugin } from 'tributary/windows';
import { VirtualTime } from 'tributary/testing';

export interface Driver {
  name: string;
  /** Opens a fresh store (own file or database); `reopen` gives another store on the same database. */
  open(options?: Omit<WindowStoreOptions, 'url' | 'dataSource'>): Promise<TestDb>;
}

export interface TestDb {
  store: WindowStore;
  url: string;
  /** Opens a second store on the same database (a restart); null for in-memory SQLite. */
  reopen(options?: Omit<WindowStoreOptions, 'url' | 'dataSource'>): Promise<WindowStore> | null;
  dispose(): Promise<void>;
}

const stores: WindowStore[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of cleanups.splice(0)) await c();
});

let dbSeq = 0;

const sqliteMemory: Driver = {
  name: 'sqlite-memory',
  async open(options = {}) {
    const store = await openWindowStore({ ...options, url: 'sqlite::memory:' });
    stores.push(store);
    return { store, url: 'sqlite::memory:', reopen: () => null, dispose: () => store.close() };
  },
};

const sqliteFile: Driver = {
  name: 'sqlite-file',
  async open(options = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'tb-windows-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const url = `sqlite:${join(dir, 'tb.db')}`;
    return openHandle(url, options);
  },
};

function mysqlDriver(base: string): Driver {
  return {
    name: 'mysql',
    async open(options = {}) {
      const admin = new DataSource({ type: 'mysql', url: base });
      await admin.initialize();
      const db = `tb_spec_${process.pid}_${++dbSeq}_${Math.floor(Math.random() * 1e6)}`;
      await admin.query(`CREATE DATABASE \`${db}\``);
      const url = base.replace(/\/[^/]*$/, `/${db}`);
      cleanups.push(async () => {
        await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
        await admin.destroy();
      });
      return openHandle(url, options);
    },
  };
}

function postgresDriver(base: string): Driver {
  return {
    name: 'postgres',
    async open(options = {}) {
      const admin = new Client({ connectionString: base });
      await admin.connect();
      const schema = `tb_spec_${process.pid}_${++dbSeq}_${Math.floor(Math.random() * 1e6)}`;
      await admin.query(`CREATE SCHEMA "${schema}"`);
      cleanups.push(async () => {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      });
      const url = `${base}${base.includes('?') ? '&' : '?'}schema=${schema}`;
      return openHandle(url, options);
    },
  };
}

/** Opens a store on a file, MySQL or PostgreSQL URL, with a way to open it again (a simulated restart). */
async function openHandle(url: string, options: WindowStoreOptions) {
  const open = async (o: WindowStoreOptions) => {
    const s = await openWindowStore({ ...o, url });
    stores.push(s);
    return s;
  };
  const store = await open(options);
  return { store, url, reopen: (o = options) => open(o), dispose: () => store.close() };
}

/**
 * The drivers this run covers: SQLite always, MySQL/MariaDB when TRIBUTARY_MYSQL_URL is set,
 * PostgreSQL when TRIBUTARY_PG_URL is set.
 */
export const drivers: Driver[] = [
  sqliteMemory,
  sqliteFile,
  ...(process.env.TRIBUTARY_MYSQL_URL ? [mysqlDriver(process.env.TRIBUTARY_MYSQL_URL)] : []),
  ...(process.env.TRIBUTARY_PG_URL ? [postgresDriver(process.env.TRIBUTARY_PG_URL)] : []),
];

/** Drivers that keep data across a restart. */
export const persistentDrivers = drivers.filter((d) => d.name !== 'sqlite-memory');

/** A virtual-time network with the store provided, and a clock that settles the database between frames. */
export function virtualNetwork(store: WindowStore): { t: VirtualTime; net: Network; clock: VirtualClock } {
  const t = new VirtualTime();
  const net = new Network({
    scheduler: t.scheduler,
    plugins: [windowsPlugin()],
    logger: { warn: () => undefined, error: () => undefined },
  });
  net.provide(WINDOW_SERVICE, store);
  return { t, net, clock: new VirtualClock(t.scheduler, store) };
}

/** Settlement log of the events a {@link scheduledSource} emitted. */
export interface AckLog {
  acked: string[];
  nacked: string[];
}

/**
 * A source emitting payloads at given virtual times, each with an ack handle whose
 * settlement is logged under its `label` (the payload's `label`, or its index). It stays open
 * (as a bus subscription would) until the network stops, or until `completeAt`.
 */
export function scheduledSource(
  items: { at: number; payload: unknown; key?: string }[],
  opts: { completeAt?: number } = {},
  log: AckLog = { acked: [], nacked: [] },
): SourceNode & { log: AckLog } {
  return {
    role: 'source',
    kind: 'scheduled',
    log,
    create: (ctx) =>
      new Observable<Event>((subscriber) => {
        const subs = items.map((item, i) =>
          ctx.scheduler.schedule(() => {
            const label = String((item.payload as { label?: unknown })?.label ?? i);
            const delivery = createDelivery((s) => (s.acked ? log.acked : log.nacked).push(label));
            subscriber.next(createEvent(item.payload, { time: ctx.scheduler.now(), key: item.key, delivery }));
          }, item.at - ctx.scheduler.now()),
        );
        if (opts.completeAt !== undefined)
          subs.push(ctx.scheduler.schedule(() => subscriber.complete(), opts.completeAt - ctx.scheduler.now()));
        return () => subs.forEach((s) => s.unsubscribe());
      }),
  };
}

/** A bet payload of the advanced example's shape. */
export function bet(
  uuid: string,
  opts: { customer?: string; stake?: number; game?: number; time?: number; selections?: number } = {},
): Record<string, unknown> {
  const selections = Array.from({ length: opts.selections ?? 1 }, () => ({
    game_id: opts.game ?? 123456,
    market_id: 'moneyline/home',
    odds: 1.23,
  }));
  return {
    uuid,
    customer_uuid: opts.customer ?? 'c1',
    stake: opts.stake ?? 100,
    currency: 'USD',
    exchange_rate: 1,
    odds: 1.23,
    ...(opts.time !== undefined ? { create_time: opts.time } : {}),
    selections,
  };
}

/** Row count of a table. */
export async function count(store: WindowStore, table: string): Promise<number> {
  const q = store.driver === 'mysql' ? `\`${table}\`` : `"${table}"`;
  const rows = await store.query(`select count(*) as n from ${q}`);
  return Number(rows[0].n);
}
