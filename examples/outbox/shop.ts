import type { DataSource } from 'typeorm';
import { EventStore } from 'tributary/eventstore';

/** An order as the shop takes it. */
export interface Order {
  id: number;
  customer: string;
  amount: number;
}

/** The order service: its own database and the event store living in it. */
export interface Shop {
  db: DataSource;
  store: EventStore;
  /** The orders table (a prefix keeps parallel runs apart). */
  table: string;
}

/**
 * Opens the shop's database (`sqlite:./shop.db` by default; `mysql://…`, `postgres://…`),
 * creates its orders table and the event store tables next to it.
 *
 * @example
 * ```ts
 * const shop = await openShop('sqlite:./shop.db');
 * ```
 */
export async function openShop(url = 'sqlite:./shop.db', prefix = ''): Promise<Shop> {
  const store = await EventStore.open({ url, prefix: `${prefix}evt_` });
  const db = store.dataSource;
  const table = `${prefix}orders`;
  await db.query(`CREATE TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY, customer VARCHAR(32) NOT NULL, amount INT NOT NULL)`);
  return { db, store, table };
}

/**
 * Places an order: the order row and its ORDER_PLACED event in one transaction, so there is
 * never an order without its event, nor an event for an order that was rolled back.
 *
 * @example
 * ```ts
 * await placeOrder(shop, { id: 1, customer: 'c1', amount: 120 });
 * ```
 */
export async function placeOrder(shop: Shop, order: Order): Promise<void> {
  const pg = shop.db.options.type === 'postgres';
  await shop.db.transaction(async (m) => {
    await m.query(`INSERT INTO ${shop.table} (id, customer, amount) VALUES (${pg ? '$1, $2, $3' : '?, ?, ?'})`, [
      order.id,
      order.customer,
      order.amount,
    ]);
    await shop.store.addEventIn(m, 'ORDER_PLACED', order);
  });
}

/**
 * Deterministic orders: five customers, amounts 5–100.
 *
 * @example
 * ```ts
 * generateOrders(3, 1); // [{ id: 1, customer: 'c3', amount: 61 }, …]
 * ```
 */
export function generateOrders(n: number, firstId = 1): Order[] {
  let seed = firstId * 7919;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, (_, i) => ({
    id: firstId + i,
    customer: `c${1 + Math.floor(next() * 5)}`,
    amount: 5 + Math.floor(next() * 96),
  }));
}
