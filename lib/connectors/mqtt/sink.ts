import { randomUUID } from 'node:crypto';
import type { IClientPublishOptions } from 'mqtt';
import type { Observable } from 'rxjs';
import { errorMessage, TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { encodePayload } from '../codec';
import { deliveryFields } from '../fields';
import { publishingSink } from '../flow';
import { publishWithRetry } from '../retry';
import { mqttConnect, mqttConnectionFields, type MqttLink } from './connection';

/** A publish the broker must never see (it would drop the connection): not retried. */
class PermanentPublishError extends Error {}

/** The options of {@link mqttSink}, declared once: types, validation, defaults and docs come from here. */
export const mqttSinkOptions = {
  topic: opt.string('fixed topic to publish to'),
  topicFn: opt.fn<(payload: any, event: Event) => string>('(payload, event) => topic; wins over topic'),
  qos: opt.integer('publish QoS: 0 acked once written, 1 and 2 once the broker acknowledged', { min: 0, max: 2 }).withDefault(1),
  retain: opt.boolean('publish retained messages (the broker keeps the last one per topic for new subscribers)').withDefault(false),
  ...mqttConnectionFields,
  clientId: opt.string('client id (default: tributary_<node name>_<random>)'),
  codec: deliveryFields.codec,
  concurrency: deliveryFields.concurrency.describe('publishes awaiting their ack at once'),
  retries: deliveryFields.retries.describe('retries of a publish the broker refused, with back-off from 250ms'),
};

/** Options of {@link mqttSink}. */
export type MqttSinkOptions = InputOf<typeof mqttSinkOptions>;

/** Why `topic` cannot be published to, or undefined when it can. */
function badTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic === '') return `${JSON.stringify(topic)} is not a topic`;
  if (/[+#]/.test(topic)) return `topic '${topic}' holds a wildcard (+ or #), which only subscriptions may use`;
  if (topic.includes('\u0000')) return `topic '${topic}' holds a NUL character`;
  return undefined;
}

/** Event headers that become MQTT 5 user properties (not the ones connectors set on the way in). */
function userProperties(h: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined {
  if (!h) return undefined;
  const out = Object.fromEntries(
    Object.entries(h).filter(([k]) => !k.startsWith('mqtt-') && !k.startsWith('amqp-') && k !== 'nats-subject'),
  );
  return Object.keys(out).length ? out : undefined;
}

/**
 * Sink publishing each event to MQTT (MQTT 5), topic fixed or per event (`topicFn`), with a
 * QoS and the retain flag. The event is acked once the broker acknowledged the publish
 * (PUBACK for QoS 1, PUBCOMP for QoS 2) or, with QoS 0, once it was written. A publish in
 * flight when the connection drops is resent after the reconnect (back-off 250ms to 10s) and
 * acked then; one the broker refuses (an error reason code) is retried `retries` times, then
 * nacked with the reason, the topic and the address (password hidden). A topic holding a
 * wildcard is nacked at once without being sent, since a broker answers it by dropping the
 * connection. Event headers (but `mqtt-*`, `amqp-*`, `nats-subject`) become user properties.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.mqttSink({ topicFn: (a) => `alerts/${a.customer}`, qos: 1 }));
 * net.add('status', connectors.mqttSink({ topic: 'plant/status', retain: true }));
 * ```
 */
export const mqttSink = defineNode({
  name: 'mqtt_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to MQTT with a QoS and retain flag; topic fixed or per event; acked after the broker ack.',
  options: mqttSinkOptions,
  positional: ['topic'],
  example: "net.add('alerts_out', connectors.mqttSink({ topic: 'alerts/liability', qos: 1 }));",
  luaExample: 'tb.create_mqtt_sink("alerts_out", "alerts/liability")',
  build: (o) => {
    if (o.topic === undefined && o.topicFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'mqtt_sink': give option 'topic' or 'topicFn'");
    }
    if (o.topic !== undefined && o.topicFn === undefined) {
      const why = badTopic(o.topic);
      if (why) throw new TributaryError('BAD_OPTION', `node kind 'mqtt_sink': option 'topic': ${why}`);
    }
    return {
      role: 'sink',
      kind: 'mqtt_sink',
      create: (ctx) => (source: Observable<Event>) => {
        const controller = new AbortController();
        let link: MqttLink | undefined;
        const connect = () =>
          (link ??= mqttConnect(
            ctx,
            {
              ...o,
              clientId: o.clientId ?? `tributary_${ctx.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 30)}_${randomUUID().slice(0, 8)}`,
              clean: true,
              sessionExpiry: 0,
            },
            controller.signal,
          ));
        const publishOnce = async (l: MqttLink, topic: string, data: Buffer, opts: IClientPublishOptions) => {
          if (!(await l.connected())) throw new Error(`not connected to ${l.shown}`);
          await new Promise<void>((resolve, reject) =>
            l.client.publish(topic, data, opts, (err) => (err ? reject(new Error(l.clean(errorMessage(err)))) : resolve())),
          );
        };
        const publish = async (event: Event) => {
          const l = connect();
          const topic = o.topicFn ? o.topicFn(event.payload, event) : o.topic!;
          const why = badTopic(topic);
          if (why) throw new PermanentPublishError(`cannot publish to ${l.shown}: ${why}`);
          const data = Buffer.from(encodePayload(event.payload, o.codec));
          const user = userProperties(event.meta.headers);
          const opts: IClientPublishOptions = {
            qos: o.qos as 0 | 1 | 2,
            retain: o.retain,
            ...(user ? { properties: { userProperties: user } } : {}),
          };
          await publishWithRetry(() => publishOnce(l, topic, data, opts), {
            scheduler: ctx.scheduler,
            retries: o.retries,
            signal: controller.signal,
            what: `publish to topic '${topic}' at ${l.shown}`,
            clean: l.clean,
            permanent: (err) => err instanceof PermanentPublishError,
          });
        };
        const close = async () => {
          if (link) await link.close(5000);
        };
        // Cut off (drain timeout): the connection goes at once, publishes awaiting their ack with it.
        const cutOff = () => void link?.close(0);
        return publishingSink(ctx, source, { publish, concurrency: o.concurrency, close, controller, cutOff });
      },
    };
  },
});
