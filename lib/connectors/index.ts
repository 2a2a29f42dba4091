import type { Plugin } from '../nodes/plugin';
import type { NodeKind } from '../nodes/registry';
import { amqpPlugin } from './amqp/plugin';
import { filePlugin } from './file/plugin';
import { httpPlugin } from './http/plugin';
import { natsPlugin } from './nats/plugin';
import { mqttPlugin } from './mqtt/plugin';
import { redisPlugin } from './redis/plugin';
import { webhook } from './http/webhook';
import { slack } from './http/slack';
import { telegram } from './http/telegram';
import { httpSource } from './http/source';
import { natsSource } from './nats/source';
import { natsSink } from './nats/sink';
import { amqpSource } from './amqp/source';
import { amqpSink } from './amqp/sink';
import { mqttSource } from './mqtt/source';
import { mqttSink } from './mqtt/sink';
import { redisStreamSource } from './redis/stream-source';
import { redisStreamSink } from './redis/stream-sink';
import { redisPubsubSource } from './redis/pubsub-source';
import { redisPubsubSink } from './redis/pubsub-sink';
import { fileSource } from './file/source';
import { fileSink } from './file/sink';
import { stdinSource, stdoutSink } from './file/stdio';

/**
 * The connector node factories: HTTP in and out, Slack, Telegram, NATS (core and
 * JetStream), RabbitMQ, MQTT, Redis (streams and pub/sub), files and stdio. Client libraries
 * (nats, amqplib, mqtt, ioredis) load lazily when a network starts the node, so importing
 * Tributary never loads them.
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
  mqttSource,
  mqttSink,
  redisStreamSource,
  redisStreamSink,
  redisPubsubSource,
  redisPubsubSink,
  fileSource,
  fileSink,
  stdinSource,
  stdoutSink,
};

/** Node kinds of the connectors (HTTP, NATS, AMQP, MQTT, Redis, files, stdio): the kinds of {@link connectorPlugins}. */
export const connectorKinds: NodeKind<any>[] = Object.values(connectors).map((f) => f.kind);

export { httpPlugin } from './http/plugin';
export { natsPlugin } from './nats/plugin';
export { amqpPlugin } from './amqp/plugin';
export { mqttPlugin } from './mqtt/plugin';
export { redisPlugin } from './redis/plugin';
export { filePlugin } from './file/plugin';

/**
 * Every connector family as plugins: `new Network({ plugins: connectorPlugins() })`.
 *
 * @example
 * ```ts
 * const registry = createRegistry({ plugins: connectorPlugins() });
 * ```
 */
export function connectorPlugins(): Plugin[] {
  return [httpPlugin, natsPlugin, amqpPlugin, mqttPlugin, redisPlugin, filePlugin];
}

export { HttpDeliveryError, type HttpDeadLetter } from './http/deliver';
export type { WebhookOptions } from './http/webhook';
export type { SlackOptions } from './http/slack';
export type { TelegramOptions } from './http/telegram';
export type { HttpSourceOptions, ListeningInfo } from './http/source';
export type { NatsSourceOptions } from './nats/source';
export type { NatsSinkOptions } from './nats/sink';
export type { AmqpSourceOptions } from './amqp/source';
export type { AmqpSinkOptions } from './amqp/sink';
export type { MqttSourceOptions } from './mqtt/source';
export type { MqttSinkOptions } from './mqtt/sink';
export type { RedisStreamSourceOptions } from './redis/stream-source';
export type { RedisStreamSinkOptions } from './redis/stream-sink';
export type { RedisPubsubSourceOptions } from './redis/pubsub-source';
export type { RedisPubsubSinkOptions } from './redis/pubsub-sink';
export type { FileSourceOptions } from './file/source';
export type { FileSinkOptions } from './file/sink';
export type { StdinSourceOptions, StdoutSinkOptions } from './file/stdio';
export { renderConnectorDocs } from './docs';
