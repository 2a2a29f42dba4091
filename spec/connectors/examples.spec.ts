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
    const { published, alerts, report } = await runBusExample({ url: URL, tag, logger: captureLogger() });
    expect(published).toHaveLength(300);
    expect(report.timedOut).toBe(false);
    const expected = expectedAlerts(300, 20, 130);
    expect(alerts.map((a) => a.alert)).toEqual(expected);
    for (const { subject, alert } of alerts) expect(subject).toBe(`bus.${tag}.alerts.${alert.customer}`);
  }, 30_000);
});
