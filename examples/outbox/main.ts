import { buildAlertNetwork, type CustomerSpend } from './alerts';
import { generateOrders, openShop, placeOrder } from './shop';

/**
 * The outbox example end to end: the shop places `orders` orders (row + ORDER_PLACED event
 * per transaction), the alert network consumes them reliably until every one is acknowledged,
 * then stops. Run it again: only new orders are consumed.
 *
 * @example
 * ```ts
 * const { alerts, seen } = await runOutboxExample({ url: 'sqlite:./shop.db', orders: 200 });
 * ```
 */
export async function runOutboxExample(options: { url?: string; prefix?: string; orders?: number; firstId?: number } = {}) {
  const shop = await openShop(options.url, options.prefix);
  const alerts: CustomerSpend[] = [];
  const seen: number[] = [];
  try {
    for (const o of generateOrders(options.orders ?? 200, options.firstId ?? 1)) await placeOrder(shop, o);
    const net = buildAlertNetwork({
      store: shop.store,
      onWindow: (w) => w.forEach((s) => seen.push(...s.orders)),
      onAlert: (s) => void alerts.push(s),
    });
    await net.start();
    // Until the consumer's pointer reached the last event: every order aggregated and acked.
    while ((await shop.store.sequence()) > 0); // every committed event has its position
    const last = await shop.store.lastPosition();
    for (;;) {
      const c = (await shop.store.consumers()).find((x) => x.component === 'order-alerts');
      if (c && BigInt(c.lastId) >= BigInt(last)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await net.stop();
    return { alerts, seen };
  } finally {
    await shop.store.close();
  }
}

// `npx ts-node --transpile-only examples/outbox/main.ts [url]` (default sqlite:./shop.db)
if (require.main === module) {
  runOutboxExample({ url: process.argv[2], firstId: Date.now() % 1_000_000_000 }).then(
    ({ alerts, seen }) => {
      for (const a of alerts) console.log(`ALERT ${a.customer} spent ${a.total} in one window (${a.orders.length} orders)`);
      console.log(`${seen.length} orders consumed, ${alerts.length} alerts`);
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
