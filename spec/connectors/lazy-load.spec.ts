import { execFileSync } from 'node:child_process';
import path from 'node:path';

describe('client libraries load lazily', () => {
  it("importing 'tributary/connectors' and building connector nodes loads neither nats nor amqplib", () => {
    const root = path.join(__dirname, '..', '..');
    const script = `
      const { connectors } = require('./lib/connectors/index');
      connectors.natsSource({ subject: 'a', stream: 'S' });
      connectors.amqpSink({ routingKey: 'k' });
      const loaded = Object.keys(require.cache);
      process.stdout.write(JSON.stringify({
        nats: loaded.some((f) => f.includes('/node_modules/nats/')),
        amqplib: loaded.some((f) => f.includes('/node_modules/amqplib/')),
      }));`;
    const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ nats: false, amqplib: false });
  }, 30_000);
});
