import type { NodeKind } from '../nodes/registry';
import { webhook } from './http/webhook';
import { slack } from './http/slack';
import { telegram } from './http/telegram';
import { httpSource } from './http/source';
import { natsSource } from './nats/source';
import { natsSink } from './nats/sink';
import { amqpSource } from './amqp/source';
import { amqpSink } from './amqp/sink';
import { fileSource } from './file/source';
import { fileSink } from './file/sink';
import { stdinSource, stdoutSink } from './file/stdio';

/**
 * The connector node factories: HTTP in and out, Slack, Telegram, NATS (core and
 * JetStream), RabbitMQ, files and stdio. Client libraries (nats, amqplib) load lazily when a
 * network starts the node, so importing Tributary never loads them.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.webhook({ url: 'http://127.0.0.1:8080/alerts' }));
 * ```
 */
export const connectors = {
  webhook,
  slack,
  telegram,
  httpSource,
  natsSource,
  natsSink,
  amqpSource,
  amqpSink,
  fileSource,
  fileSink,
  stdinSource,
  stdoutSink,
};

/**
 * Node kinds of the connectors (HTTP, NATS, AMQP, files, stdio), registered in every
 * registry `createRegistry()` makes. Client libraries load lazily when a node is built.
 */
export const connectorKinds: NodeKind<any>[] = Object.values(connectors).map((f) => f.kind);
