import { spendPerCustomer } from '../../examples/outbox/alerts';
import { runOutboxExample } from '../../examples/outbox/main';
import { generateOrders } from '../../examples/outbox/shop';
import { drivers } from './helpers';

describe.each(drivers)('examples/outbox on $name', (driver) => {
  it('consumes every order exactly once across a restart and alerts only on big spenders', async () => {
    const t = await driver.open(); // fresh tables (dropped afterwards) and a URL
    const prefix = t.prefix;
    const first = await runOutboxExample({ url: t.url, prefix, orders: 120, firstId: 1 });
    expect([...first.seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    // A second run (a restart of the consumer) gets only the new orders.
    const second = await runOutboxExample({ url: t.url, prefix, orders: 30, firstId: 121 });
    expect([...second.seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 121));
    for (const a of [...first.alerts, ...second.alerts]) expect(a.total).toBeGreaterThan(300);
    expect(first.alerts.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('examples/outbox aggregation', () => {
  it('sums spending per customer within a window', () => {
    const orders = generateOrders(4, 1);
    const spend = spendPerCustomer(orders);
    expect(spend.reduce((n, s) => n + s.total, 0)).toBe(orders.reduce((n, o) => n + o.amount, 0));
    for (const s of spend) expect(s.total).toBe(orders.filter((o) => o.customer === s.customer).reduce((n, o) => n + o.amount, 0));
  });
});
