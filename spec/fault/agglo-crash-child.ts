// The process the agglo crash spec kills: a JetStream durable consumer feeding two `aggregate`
// nodes (a sum per group and a count) with their state in Redis, then a slow sink (16 at a time) that prints
// each message's number once it is done and acks it. The slow sink keeps events whose state
// update is committed but whose message is not yet acked, so a SIGKILL lands among them.
// Arguments: NATS URL, stream, subject, Redis URL, process name.
import { firstValueFrom, timer } from 'rxjs';
import { aggregate } from '../../lib/agglo/aggregate';
import { AGGLO_STATE_SERVICE, StateStores } from '../../lib/agglo/stateful';
import { natsPlugin } from '../../lib/connectors/nats/plugin';
import { Network, nodes } from '../../lib/index';

const [url, stream, subject, redisUrl, name] = process.argv.slice(2);
const stores = new StateStores();
const net = new Network({
  plugins: [natsPlugin],
  logger: { warn: (m) => process.stderr.write(`${m}\n`), error: (m) => process.stderr.write(`${m}\n`) },
});
net.provide(AGGLO_STATE_SERVICE, stores);
net.create('nats_source', 'in', { url, stream, subject, durable: 'agg', maxInFlight: 48, ackWait: '3s', nackDelay: 0 });
net.add('sum', aggregate({ name, aggregation: { key: 'n', aggregationType: 'AggSum', groupByKeys: ['g'] }, stateStore: redisUrl }));
net.add('count', aggregate({ name, aggregation: { key: 'n', aggregationType: 'AggCount' }, stateStore: redisUrl }));
net.add(
  'out',
  nodes.sink({
    fn: async (p: { n: number }) => {
      await firstValueFrom(timer(100));
      process.stdout.write(`${p.n}\n`);
    },
    concurrency: 16,
  }),
);
net.link('in', 'sum');
net.link('sum', 'count');
net.link('count', 'out');
process.on('SIGTERM', () => {
  void net
    .stop()
    .then(() => stores.closeAll())
    .then(() => process.exit(0));
});
void net.start();
