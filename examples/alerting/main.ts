import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Network, nodes, type Logger, type NetworkReport } from 'tributary';
import { connectors } from 'tributary/connectors';

/** A bet as the generator makes it. */
export interface Bet {
  customer: string;
  stake: number;
  odds: number;
}

/** The alert the network sends when a customer's liability crosses the threshold. */
export interface LiabilityAlert {
  customer: string;
  liability: number;
  bets: number;
}

/** Options of {@link runAlertingExample}. */
export interface AlertingOptions {
  /** How many bets to generate (default 400). */
  bets?: number;
  /** Liability above which a customer is alerted on (default 130). */
  threshold?: number;
  /** Bets per aggregation batch (default 20). */
  batch?: number;
  /** Where the network reports problems and retries (default: stderr). */
  logger?: Logger;
}

/** Deterministic bets: five customers, stakes 1–20, odds 1.5–4.5. */
export function generateBets(n: number): Bet[] {
  let seed = 42;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: n }, () => ({
    customer: `c${1 + Math.floor(next() * 5)}`,
    stake: 1 + Math.floor(next() * 20),
    odds: Math.round((1.5 + next() * 3) * 100) / 100,
  }));
}

/** Liability per customer over a batch of bets: the sum of stake × odds. */
export function liabilities(bets: Bet[]): LiabilityAlert[] {
  const by = new Map<string, LiabilityAlert>();
  for (const b of bets) {
    const a = by.get(b.customer) ?? { customer: b.customer, liability: 0, bets: 0 };
    a.liability = Math.round((a.liability + b.stake * b.odds) * 100) / 100;
    a.bets++;
    by.set(b.customer, a);
  }
  return [...by.values()].sort((x, y) => x.customer.localeCompare(y.customer));
}

/**
 * The alerting example: generated bets, aggregated into liability per customer, alerts for
 * those over the threshold POSTed to a webhook. The webhook is a tiny local receiver the
 * example starts, which answers 503 to the very first request so the sink's retry shows.
 *
 *   bets (from) → window (buffer) → liability (flatmap) → over_limit (where) → alert (webhook)
 *
 * The `window` + `liability` pair is where the SQL sliding window slots in once it is
 * available: `windows.timeWindow({ duration: '10s', sql: 'SELECT customer, SUM(stake*odds)
 * AS liability … GROUP BY customer' })` replaces both nodes, so the alert counts the last
 * 10 s of bets instead of a fixed batch.
 *
 * @example
 * ```ts
 * const { alerts } = await runAlertingExample({ bets: 400, threshold: 130 });
 * ```
 */
export async function runAlertingExample(options: AlertingOptions = {}): Promise<{
  alerts: LiabilityAlert[];
  requests: number;
  report: NetworkReport;
}> {
  const { bets = 400, threshold = 130, batch = 20, logger } = options;
  const received: LiabilityAlert[] = [];
  let requests = 0;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      if (++requests === 1) {
        res.writeHead(503).end('warming up');
        return;
      }
      received.push(JSON.parse(body).alert as LiabilityAlert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;

  try {
    const net = new Network(logger ? { logger } : {});
    net.add('bets', nodes.from({ items: generateBets(bets), maxInFlight: 500 }));
    // The window slot: a SQL time window replaces these two nodes (see above).
    net.add('window', nodes.buffer({ size: batch }));
    net.add('liability', nodes.flatmap({ fn: (batchOfBets: Bet[]) => liabilities(batchOfBets) }));
    net.add('over_limit', nodes.where({ fn: (a: LiabilityAlert) => a.liability > threshold }));
    net.add(
      'alert',
      connectors.webhook({ url, body: (a: LiabilityAlert) => ({ kind: 'liability', alert: a }), retries: 3, backoff: '50ms' }),
    );
    net.link('bets', 'window').link('window', 'liability').link('liability', 'over_limit').link('over_limit', 'alert');
    await net.start();
    const report = await net.done();
    return { alerts: received, requests, report };
  } finally {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}

// `npx ts-node --transpile-only examples/alerting/main.ts`
if (require.main === module) {
  runAlertingExample().then(
    ({ alerts, requests, report }) => {
      for (const a of alerts) console.log(`ALERT ${a.customer}: liability ${a.liability} over ${a.bets} bets`);
      console.log(
        `${alerts.length} alerts delivered in ${requests} requests (one retried); ${report.stats.bets.out} bets in, ${report.stats.alert.acked} alerts acked`,
      );
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
