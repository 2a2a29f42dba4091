import { DataSource, EntitySchema } from 'typeorm';
import { createEvent } from 'tributary';
import { dataSourceOptionsFromUrl, openWindowStore } from 'tributary/windows';
import { windowDialect } from '../../lib/windows/store';
import { Bet, entities } from '../../examples/advanced/entities';
import { drivers } from './helpers';

/** An entity without decorators, as a config-driven program would build it. */
interface Alert {
  id?: number;
  customer: string;
  total: number;
  at: number;
}
const AlertSchema = new EntitySchema<Alert>({
  name: 'Alert',
  tableName: 'alerts',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    customer: { type: 'varchar', length: 64 },
    total: { type: 'double' },
    at: { type: 'bigint' },
  },
});

describe('window store URLs', () => {
  it('understands sqlite::memory:, sqlite:<file> and mysql:// URLs', () => {
    expect(dataSourceOptionsFromUrl('sqlite::memory:', [])).toMatchObject({ type: 'sqlite', database: ':memory:' });
    expect(dataSourceOptionsFromUrl('sqlite:./tb.db', [])).toMatchObject({ type: 'sqlite', database: './tb.db', enableWAL: true });
    expect(dataSourceOptionsFromUrl('sqlite:///tmp/tb.db', [])).toMatchObject({ database: '/tmp/tb.db' });
    expect(dataSourceOptionsFromUrl('mysql://u:p@db:3306/tb', [])).toMatchObject({
      type: 'mysql',
      url: 'mysql://u:p@db:3306/tb',
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
    expect(dataSourceOptionsFromUrl('mariadb://u@db/tb', [])).toMatchObject({ type: 'mariadb', url: 'mysql://u@db/tb' });
  });

  it('understands postgres:// and postgresql:// URLs, with ?schema= for the schema', () => {
    expect(windowDialect('postgres://u:p@db:5432/tb')).toBe('postgres');
    expect(windowDialect('postgresql://u@db/tb')).toBe('postgres');
    expect(dataSourceOptionsFromUrl('postgres://u:p@db:5432/tb', [])).toMatchObject({ type: 'postgres', url: 'postgres://u:p@db:5432/tb' });
    const withSchema = dataSourceOptionsFromUrl('postgresql://u@db/tb?sslmode=disable&schema=windows', []);
    expect(withSchema).toMatchObject({ type: 'postgres', url: 'postgresql://u@db/tb?sslmode=disable', schema: 'windows' });
    expect((withSchema as { extra: { options: string } }).extra.options).toBe('-c search_path=windows');
    expect(() => dataSourceOptionsFromUrl('postgres://u:secret@db/tb?schema=a;b', [])).toThrow(
      "window store: schema 'a;b' in 'postgres://u:***@db/tb?schema=a;b' must be letters, digits and underscores",
    );
  });

  it('rejects other URLs with a message listing the supported forms', () => {
    expect(() => dataSourceOptionsFromUrl('mongodb://x', [])).toThrow(
      /unsupported URL 'mongodb:\/\/x' \(use sqlite::memory:, sqlite:.\/file.db, mysql:\/\/user:pass@host:port\/db or postgres:\/\/user:pass@host:port\/db\)/,
    );
  });

  it('opens sqlite::memory: by default', async () => {
    const store = await openWindowStore();
    expect(store.driver).toBe('sqlite');
    expect(await store.query('select 1 + 1 as two')).toEqual([{ two: 2 }]);
    await store.close();
    await store.close(); // twice is fine
    expect(store.dataSource.isInitialized).toBe(false);
  });

  it('names the URL (without its password) when the database cannot be opened', async () => {
    await expect(openWindowStore({ url: 'mysql://root:secret@127.0.0.1:1/none' })).rejects.toThrow(
      /cannot open 'mysql:\/\/root:\*\*\*@127.0.0.1:1\/none'/,
    );
  });

  it('names a PostgreSQL URL without its password when the server cannot be reached', async () => {
    const err = await openWindowStore({ url: 'postgres://app:s3cret@127.0.0.1:1/none' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/^window store: cannot open 'postgres:\/\/app:\*\*\*@127.0.0.1:1\/none': /);
    expect(err?.message).not.toContain('s3cret');
  });

  (process.env.TRIBUTARY_PG_URL ? it : it.skip)(
    'names a PostgreSQL URL with a wrong password and a missing database without the password',
    async () => {
      const base = new URL(process.env.TRIBUTARY_PG_URL!);
      const url = `postgres://${base.username || 'postgres'}:wrong-pw-4711@${base.host}/tb_no_such_database`;
      const err = await openWindowStore({ url }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).toContain(`cannot open 'postgres://${base.username || 'postgres'}:***@${base.host}/tb_no_such_database'`);
      expect(err?.message).not.toContain('wrong-pw-4711');
    },
  );
});

describe.each(drivers)('window store on $name', (driver) => {
  it('makes tables from EntitySchema entities too', async () => {
    const { store } = await driver.open({ entities: [AlertSchema] });
    const table = store.table('alerts');
    await store.transaction((m) => table.insert(m, [table.prepare({ customer: 'c1', total: 138, at: 5 }, createEvent(null))]));
    expect(await store.query('select id, customer, total, at from alerts')).toEqual([{ id: 1, customer: 'c1', total: 138, at: 5 }]);
    expect(store.table('Alert')).toBe(table); // by entity name as well
  });

  it('declares typed tables and reports bad declarations by table and column', async () => {
    const { store } = await driver.open({
      tables: [
        {
          name: 'alerts',
          columns: { customer: 'string', total: 'number', sent: { type: 'boolean', nullable: true } },
          index: ['customer'],
        },
      ],
    });
    const t = store.table('alerts');
    expect(t.columns).toEqual(['id', 'customer', 'total', 'sent']);
    expect(() => t.prepare({ customer: 'c1' }, createEvent(null))).toThrow("table 'alerts': column 'total' is missing");
    expect(() => t.prepare({ customer: 'c1', total: 'x' }, createEvent(null))).toThrow(
      `table 'alerts': column 'total' needs a number, got "x"`,
    );
    expect(() => t.prepare('nope', createEvent(null))).toThrow("table 'alerts' needs an object payload, got string");
    expect(() => store.declare({ name: 'bad', columns: { a: 'float' as never } })).toThrow(
      "table 'bad': column 'a' has unknown type 'float' (string, text, integer, number, boolean, json)",
    );
    expect(() => store.declare({ name: 'empty' })).toThrow("table 'empty': declare its columns or make it schemaless");
    expect(() => store.declare({ name: 'alerts', schemaless: true })).toThrow("table 'alerts' is already known to the window store");
  });

  it('wraps a DataSource you built and leaves it open when you had initialized it', async () => {
    const { url } = await driver.open();
    const ds = new DataSource({ ...dataSourceOptionsFromUrl(url, entities) } as never);
    await ds.initialize();
    try {
      const store = await openWindowStore({ dataSource: ds, entities: [Bet] });
      expect(store.table().name).toBe('example_bets');
      await store.close();
      expect(ds.isInitialized).toBe(true);
      await expect(openWindowStore({ dataSource: ds, entities: [AlertSchema] })).rejects.toThrow(
        /entity 'Alert' is not part of the given DataSource/,
      );
    } finally {
      await ds.destroy();
    }
  });

  it('lists the known tables when asked for an unknown one, and needs a name without a default', async () => {
    const { store } = await driver.open({ entities });
    expect(() => store.table('nope', "node 'w'")).toThrow(
      "node 'w': unknown table 'nope' (known: example_bets, example_selections; declare it or add an entity)",
    );
    const { store: empty } = await driver.open();
    expect(() => empty.table(undefined, "node 'w'")).toThrow(/node 'w': name a table/);
  });
});
