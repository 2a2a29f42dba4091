import { runAlertingExample, generateBets, liabilities } from '../../examples/alerting/main';
import { runBusExample } from '../../examples/bus/main';
import { captureLogger } from './helpers';

function expectedAlerts(bets: number, batch: number, threshold: number) {
  const all = generateBets(bets);
  const out = [];
  for (let i = 0; i < all.length; i += batch) out.push(...liabilities(all.slice(i, i + batch)).filter((a) => a.liability > threshold));
  return out;
}

describe('examples/alerting', () => {
  it('delivers every liability alert to the local receiver, retrying the refused first request', async () => {
    const logger = captureLogger();
    const { alerts, requests, report } = await runAlertingExample({ logger });
    const expected = expectedAlerts(400, 20, 130);
    expect(expected.length).toBeGreaterThan(0);
    expect(alerts).toEqual(expected);
    expect(requests).toBe(expected.length + 1);
    expect(report.stats.alert).toMatchObject({ acked: expected.length, nacked: 0 });
    expect(logger.messages.some((m) => m.includes('HTTP 503') && m.includes('retry 1/3'))).toBe(true);
  });
});

const URL = process.env.TRIBUTARY_NATS_URL;
(URL ? describe : describe.skip)(`examples/bus against NATS ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  it('turns bets from JetStream into liability alerts on JetStream, every bet acked', async () => {
    const tag = `spec${Date.now().toString(36)}`;
    const { published, alerts, totals, report } = await runBusExample({ url: URL, tag, logger: captureLogger() });
    expect(published).toHaveLength(300);
    expect(report.timedOut).toBe(false);
    // How bets fall into batches (size 20, or whatever arrived within 1s) is timing: assert
    // only what holds for any batching. Every bet is counted in exactly one liability...
    expect(totals.bets).toBe(300);
    const all = liabilities(published);
    const sum = (xs: { liability: number }[]) => xs.reduce((t, a) => t + a.liability, 0);
    expect(totals.liability).toBeCloseTo(sum(all), 0);
    // ...each liability is either alerted or dropped under the threshold...
    expect(report.stats.liability.out).toBe(alerts.length + report.stats.over_limit.dropped);
    // ...and every alert is over the threshold, on its customer's subject, and within that customer's totals.
    for (const { subject, alert } of alerts) {
      expect(subject).toBe(`bus.${tag}.alerts.${alert.customer}`);
      expect(alert.liability).toBeGreaterThan(130);
    }
    for (const c of all) {
      const mine = alerts.map((a) => a.alert).filter((a) => a.customer === c.customer);
      expect(sum(mine)).toBeLessThanOrEqual(c.liability + 0.01 * mine.length);
      expect(mine.reduce((t, a) => t + a.bets, 0)).toBeLessThanOrEqual(c.bets);
    }
  }, 30_000);
});
