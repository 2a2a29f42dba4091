import { existsSync } from 'node:fs';
import { connect, type NatsConnection } from 'nats';
import { kvCatalog } from '../../lib/cluster/catalog';
import { deploy } from '../../lib/cluster/deploy';
import type { DeployedScript } from '../../lib/cluster/types';
import { NATS_SERVER, startSingleNats, until } from './nats-cluster';
import { OwnServer } from './servers';

/**
 * Issue 17: `tributary agent` learns what to run from the deployed-scripts bucket through
 * kvCatalog's watch. A nats-server that restarts forgets the watch's ephemeral consumer and the
 * client's watch goes silent until its missed idle heartbeats reset it (about 5 s later). Here
 * a private nats-server (its own store, a spare port) is killed with SIGKILL and restarted
 * between two deploys: the catalog must report the second version at once (within 2 s).
 */
const suite = existsSync(NATS_SERVER) ? describe : describe.skip;

suite('deployed scripts across a NATS server restart', () => {
  it('the catalog an agent watches sees a deploy made after the server was killed and restarted', async () => {
    const server = await OwnServer.create('tb-catalog-nats-');
    let nc: NatsConnection | undefined;
    let stop: (() => void) | undefined;
    try {
      await startSingleNats(server);
      nc = await connect({ servers: `nats://127.0.0.1:${server.port}`, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const seen: DeployedScript[][] = [];
      const catalog = kvCatalog(nc, 'restart');
      const source = 'local tb = require("tributary")\n';
      await deploy(nc, 'restart', { name: 'calc', format: 'lua', source });
      stop = catalog.subscribe((scripts) => seen.push([...scripts]));
      const versionSeen = () => seen.at(-1)?.find((s) => s.name === 'calc')?.version;
      await until('the first version in the catalog', 10_000, () =>
        versionSeen() === 1 ? Promise.resolve() : Promise.reject(new Error('not yet')),
      );

      await server.kill();
      await startSingleNats(server);
      // Deploys while the client reconnects may fail: the operator runs `deploy` again.
      await until('the second deploy', 20_000, () => deploy(nc!, 'restart', { name: 'calc', format: 'lua', source }));
      const deployedAt = Date.now();
      // Promptly: without a new watch the client noticed the dead one only by its missed idle
      // heartbeats, about 5 s later (seen: 4.8 s); with it, within milliseconds.
      await until('the second version in the catalog', 2_000, () =>
        versionSeen() === 2 ? Promise.resolve() : Promise.reject(new Error(`catalog still has version ${versionSeen()}`)),
      );
      expect(versionSeen()).toBe(2);
      console.log(`catalog-nats-restart: the catalog saw version 2 ${Date.now() - deployedAt} ms after it was deployed`);
    } finally {
      stop?.();
      await nc?.close();
      await server.dispose();
    }
  }, 90_000);
});
