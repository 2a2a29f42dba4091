// A unit reading a JetStream consumer may be replaced moments after it started (a redeploy
// right after a deploy, a lease lost at once): stopping it while its consumer is still being
// set up must close its NATS connection, not leave a pull loop running for ever.
import { connect } from 'nats';
import { unitFactory } from '../../lib/cluster/runner';
import type { WorkUnit } from '../../lib/cluster/types';

const URL = process.env.TRIBUTARY_NATS_URL;
const suite = URL ? describe : describe.skip;
const quiet = { warn: () => undefined, error: () => undefined };

/** Open TCP sockets of this process (public API: process.getActiveResourcesInfo). */
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

suite(`units over JetStream at ${URL ?? '(set TRIBUTARY_NATS_URL to run)'}`, () => {
  const stream = `SPEC_RUNNER_STOP_${process.pid}`;
  beforeAll(async () => {
    const nc = await connect({ servers: URL });
    await (await nc.jetstreamManager()).streams.add({ name: stream, subjects: [`specrunnerstop.${process.pid}.>`] });
    await nc.close();
  });
  afterAll(async () => {
    const nc = await connect({ servers: URL });
    await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('a unit stopped right after it started closes its NATS connection', async () => {
    const before = sockets();
    const factory = unitFactory({ group: 'g', session: { logger: quiet } });
    const source =
      `local tb = require('tributary')\n` +
      `tb.create_nats_source('in', { subject = 'specrunnerstop.${process.pid}.>', stream = '${stream}', durable = 'stop', url = '${URL}' })\n` +
      `tb.create_discarder('d')\ntb.link('in', 'd')\n`;
    for (const delay of [0, 2, 5, 5, 10, 10, 20, 50]) {
      const unit: WorkUnit = { id: 'stop', script: { name: 'stop', version: 1, format: 'lua', source, deployedAt: 0 } };
      const handle = await (await factory.prepare(unit, { epoch: 1 })).start();
      await new Promise((r) => setTimeout(r, delay));
      await handle.stop();
    }
    const deadline = Date.now() + 15_000;
    while (sockets() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sockets()).toBe(before);
  }, 60_000);
});
