import { Network, nodes, type Logger } from 'tributary';
import { EVENTSTORE_SERVICE, eventstorePlugin, eventstoreSource, type EventStore } from 'tributary/eventstore';
import type { Order } from './shop';

/** Spending of one customer within one window. */
export interface CustomerSpend {
  customer: string;
  total: number;
  orders: number[];
}

/** Options of {@link buildAlertNetwork}. */
export interface AlertNetworkOptions {
  store: EventStore;
  /** Spending in one window above which a customer is alerted on (default 300). */
  threshold?: number;
  /** Orders per window at most (default 50); a window also closes after `interval`. */
  size?: number;
  interval?: string;
  /** Every window's per-customer totals (for the dashboard, and the spec). */
  onWindow?: (spend: CustomerSpend[]) => void;
  onAlert: (spend: CustomerSpend) => void;
  logger?: Logger;
}

/** Per-customer totals of a window of orders. */
export function spendPerCustomer(orders: Order[]): CustomerSpend[] {
  const by = new Map<string, CustomerSpend>();
  for (const o of orders) {
    const s = by.get(o.customer) ?? { customer: o.customer, total: 0, orders: [] };
    s.total += o.amount;
    s.orders.push(o.id);
    by.set(o.customer, s);
  }
  return [...by.values()].sort((a, b) => a.customer.localeCompare(b.customer));
}

/**
 * The consuming side: reads ORDER_PLACED events reliably (the consumer `order-alerts`; its
 * pointer moves only once an order's window was aggregated and its alert handled), sums
 * spending per customer per window and alerts on those above the threshold.
 *
 *   orders (eventstore_source) → window (buffer) → per_customer (flatmap) → big_spenders (where) → alert (sink)
 *
 * @example
 * ```ts
 * const net = buildAlertNetwork({ store: shop.store, onAlert: (s) => console.log(s) });
 * await net.start();
 * ```
 */
export function buildAlertNetwork(options: AlertNetworkOptions): Network {
  const { store, threshold = 300, size = 50, interval = '1s' } = options;
  const net = new Network({ plugins: [eventstorePlugin], ...(options.logger ? { logger: options.logger } : {}) });
  net.provide(EVENTSTORE_SERVICE, store);
  net.add('orders', eventstoreSource({ component: 'order-alerts', want: ['ORDER_PLACED'], payload: 'data', pollInterval: '50ms' }));
  net.add('window', nodes.buffer({ size, interval }));
  net.add(
    'per_customer',
    nodes.flatmap({
      fn: (orders: Order[]) => {
        const spend = spendPerCustomer(orders);
        options.onWindow?.(spend);
        return spend;
      },
    }),
  );
  net.add('big_spenders', nodes.where({ fn: (s: CustomerSpend) => s.total > threshold }));
  net.add('alert', nodes.sink({ fn: (s: CustomerSpend) => options.onAlert(s) }));
  net.link('orders', 'window').link('window', 'per_customer').link('per_customer', 'big_spenders').link('big_spenders', 'alert');
  return net;
}
