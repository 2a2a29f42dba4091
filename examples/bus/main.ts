import { connect, type NatsConnection } from 'nats';
import { Network, nodes, type Logger, type NetworkReport } from 'tributary';
import { connectors } from 'tributary/connectors';
import { generateBets, liabilities, type Bet, type LiabilityAlert } from '../alerting/main';

/** Options of {@link runBusExample}. */
export interface BusExampleOptions {
  /** NATS URL (default `TRIBUTARY_NATS_URL`, else `nats://127.0.0.1:4222`). */
  url?: string;
  /** Suffix for the stream and subjects, so runs do not collide (default `example`). */
  tag?: string;
  /** Bets to publish (default 300). */
  bets?: number;
  /** Liability above which an alert is published (default 130). */
  threshold?: number;
  /** Bets per aggregation batch (default 20). */
  batch?: number;
  logger?: Logger;
  /** Delete the stream afterwards (default true). */
  cleanup?: boolean;
}

/** Polls until `check` holds; bounded, for an external service. */
async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The bus example: bets published to NATS JetStream (`bus.<tag>.bets.<customer>`), consumed by
 * a durable consumer, aggregated into liability per customer, and alerts over the threshold
 * published back to JetStream (`bus.<tag>.alerts.<customer>`). Every bet is acked to JetStream
 * only once the alerts computed from it were stored: kill the process at any point and a
 * restart loses nothing.
 *
 *   bets (nats_source) → window (buffer) → liability (flatmap) → over_limit (where) → alerts (nats_sink)
 *
 * As in the alerting example, `window` + `liability` is where a SQL time window slots in.
 *
 * @example
 * ```ts
 * const { alerts } = await runBusExample({ url: 'nats://127.0.0.1:4222', tag: 'demo' });
 * ```
 */
export async function runBusExample(options: BusExampleOptions = {}): Promise<{
  published: Bet[];
  alerts: { subject: string; alert: LiabilityAlert }[];
  /** Every liability the window produced (over the threshold or not): bets and liability summed. */
  totals: { bets: number; liability: number };
  report: NetworkReport;
}> {
  const {
    url = process.env.TRIBUTARY_NATS_URL ?? 'nats://127.0.0.1:4222',
    tag = 'example',
    bets = 300,
    threshold = 130,
    batch = 20,
    logger,
    cleanup = true,
  } = options;
  const stream = `TB_BUS_${tag}`;
  const nc: NatsConnection = await connect({ servers: url });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.add({ name: stream, subjects: [`bus.${tag}.>`] });

    // The outside world: bets arrive on the bus.
    const published = generateBets(bets);
    const js = nc.jetstream();
    const enc = new TextEncoder();
    await Promise.all(published.map((b) => js.publish(`bus.${tag}.bets.${b.customer}`, enc.encode(JSON.stringify(b)))));

    const net = new Network(logger ? { logger } : {});
    net.add('bets', connectors.natsSource({ url, stream, subject: `bus.${tag}.bets.>`, durable: 'liability', maxInFlight: 200 }));
    net.add('window', nodes.buffer({ size: batch, interval: '1s' }));
    const totals = { bets: 0, liability: 0 };
    net.add(
      'liability',
      nodes.flatmap({
        fn: (b: Bet[]) => {
          const out = liabilities(b);
          for (const a of out) {
            totals.bets += a.bets;
            totals.liability += a.liability;
          }
          return out;
        },
      }),
    );
    net.add('over_limit', nodes.where({ fn: (a: LiabilityAlert) => a.liability > threshold }));
    net.add('alerts', connectors.natsSink({ url, subjectFn: (a: LiabilityAlert) => `bus.${tag}.alerts.${a.customer}` }));
    net.link('bets', 'window').link('window', 'liability').link('liability', 'over_limit').link('over_limit', 'alerts');
    await net.start();

    // Done when JetStream has every bet acked: each ack came after its alerts were stored.
    await until(async () => {
      const info = await jsm.consumers.info(stream, 'liability').catch(() => undefined);
      return info !== undefined && info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= bets;
    }, 'every bet to be acked');
    const report = await net.stop();

    const alerts: { subject: string; alert: LiabilityAlert }[] = [];
    const info = await jsm.streams.info(stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m.subject.startsWith(`bus.${tag}.alerts.`)) alerts.push({ subject: m.subject, alert: m.json<LiabilityAlert>() });
    }
    if (cleanup) await jsm.streams.delete(stream);
    return { published, alerts, totals, report };
  } finally {
    await nc.close();
  }
}

// `TRIBUTARY_NATS_URL=nats://127.0.0.1:4222 npx ts-node --transpile-only examples/bus/main.ts`
if (require.main === module) {
  runBusExample().then(
    ({ published, alerts, report }) => {
      for (const { subject, alert } of alerts) console.log(`${subject}: liability ${alert.liability} over ${alert.bets} bets`);
      console.log(
        `${published.length} bets in, ${alerts.length} alerts out, ${report.stats.over_limit.dropped} liabilities under the threshold; drained: ${!report.timedOut}`,
      );
    },
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
