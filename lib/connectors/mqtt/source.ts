import type { IClientOptions, IPublishPacket, ISubscriptionGrant } from 'mqtt';
import { errorMessage, TributaryError } from '../../errors';
import type { Settlement } from '../../delivery';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import type { NodeContext } from '../../nodes/types';
import { deliveryFields } from '../fields';
import { emitMessage, flowSource, type FlowIO } from '../flow';
import { sleep, within } from '../retry';
import { HeldAcks, type AckTicket } from './acks';
import { mqttConnect, mqttConnectionFields, sessionClosed } from './connection';

/** The options of {@link mqttSource}, declared once: types, validation, defaults and docs come from here. */
export const mqttSourceOptions = {
  topic: opt.any<string | string[]>('topic filter, or a list of them; wildcards + (one level) and # (the rest)').require(),
  qos: opt
    .integer('subscription QoS: 0 at most once, 1 and 2 at least once here (acked after settlement)', { min: 0, max: 2 })
    .withDefault(1),
  ...mqttConnectionFields,
  clientId: opt.string('client id of the session (default tributary_<node name>); one process per id at a time'),
  clean: opt
    .boolean('start a fresh session, forgetting what the last run left unacked (false: resume it, redelivery after a crash)')
    .withDefault(false),
  sessionExpiry: opt
    .duration('how long the broker keeps the session, and queues messages for it, after a disconnect', { min: 0, max: 4_294_967_295_000 })
    .withDefault('24h'),
  maxInFlight: deliveryFields.maxInFlight
    .describe('cap on emitted but unsettled events: the receive maximum asked of the broker (at most 65535)')
    .withDefault(100),
  nackDelay: opt
    .duration('a nacked event is emitted again after this, doubled per attempt up to 30s (its broker ack held meanwhile)', { min: 0 })
    .withDefault('1s'),
  maxDeliver: opt.integer('attempts before a nacked message is given up (acked and logged); default unlimited', { min: 1 }),
  codec: deliveryFields.codec.describe('payload decoding: json, string or bytes (a message that fails to decode becomes an error event)'),
  closeTimeout: deliveryFields.closeTimeout,
};

/** Options of {@link mqttSource}. */
export type MqttSourceOptions = InputOf<typeof mqttSourceOptions>;
type Resolved = OutputOf<typeof mqttSourceOptions>;

/** A client id the broker accepts, from a node name. */
function clientIdOf(name: string): string {
  return `tributary_${name.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

/** The topic filters of the `topic` option, checked. */
function filtersOf(topic: unknown): string[] {
  const list = Array.isArray(topic) ? (topic as unknown[]) : [topic];
  if (list.length === 0) throw new TributaryError('BAD_OPTION', "node kind 'mqtt_source': option 'topic' must not be an empty list");
  for (const f of list) {
    if (typeof f !== 'string' || f === '')
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'mqtt_source': option 'topic' must be a topic filter or a list of them, got ${JSON.stringify(f)}`,
      );
    const levels = f.split('/');
    const bad = levels.some((l, i) => (l.includes('#') && (l !== '#' || i !== levels.length - 1)) || (l.includes('+') && l !== '+'));
    if (bad)
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'mqtt_source': topic filter '${f}' is malformed: + must fill a whole level, # a whole last level`,
      );
  }
  return list as string[];
}

/** The part of an MQTT publish packet read for headers (typed structurally: the published declarations need no mqtt typings). */
export interface PacketMeta {
  topic: string;
  qos: number;
  retain: boolean;
  dup: boolean;
  properties?: { userProperties?: Record<string, string | string[]> };
}

/**
 * Event headers of an MQTT message: `mqtt-topic`, `mqtt-qos`, `mqtt-retain` (and `mqtt-dup`
 * when the broker redelivered it), plus its MQTT 5 user properties.
 *
 * @example
 * ```ts
 * mqttHeaders({ topic: 'bets/c1', qos: 1, retain: false, dup: false });
 * // { 'mqtt-topic': 'bets/c1', 'mqtt-qos': '1', 'mqtt-retain': 'false' }
 * ```
 */
export function mqttHeaders(p: PacketMeta): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.properties?.userProperties ?? {})) out[k] = Array.isArray(v) ? String(v[0]) : String(v);
  out['mqtt-topic'] = p.topic;
  out['mqtt-qos'] = String(p.qos);
  out['mqtt-retain'] = String(p.retain);
  if (p.dup) out['mqtt-dup'] = 'true';
  return out;
}

async function consume(ctx: NodeContext, o: Resolved, filters: string[], io: FlowIO): Promise<void> {
  let acks: HeldAcks | undefined;

  /** Emits one message; QoS 1/2 ones keep their broker ack until the event settles. */
  const deliver = (packet: IPublishPacket, ticket: AckTicket | undefined, attempt: number): Promise<void> => {
    const init = { headers: mqttHeaders(packet) };
    const what = `the message on topic '${packet.topic}'`;
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (!ticket) return emitMessage(io, bytes, o.codec, what, init, () => undefined);
    const settle = (s: Settlement) => {
      if (s.acked) return ticket.ack();
      if (!ticket.live || io.signal.aborted) return; // unacked: the broker redelivers it on the next connection
      if (o.maxDeliver !== undefined && attempt >= o.maxDeliver) {
        ctx.logger.error(`node '${ctx.name}': giving up ${what} after ${attempt} attempt(s); acked without being processed`);
        return ticket.ack();
      }
      const delay = Math.min(30_000, o.nackDelay * 2 ** Math.min(20, attempt - 1));
      void sleep(ctx.scheduler, delay, io.signal).then(() => {
        if (ticket.live && !io.signal.aborted) void deliver(packet, ticket, attempt + 1);
      });
    };
    // Redelivering cannot fix a message that does not decode: its error event settles it either way.
    const settleBad = () => ticket.ack();
    return emitMessage(io, bytes, o.codec, what, init, settle, settleBad);
  };

  const customHandleAcks: IClientOptions['customHandleAcks'] = (_topic, _message, packet, done) => {
    // Held before mqtt.js writes the ack (when `done` runs); arriving while stopping, it is never acked.
    const ticket = acks!.hold(packet.messageId!);
    if (io.signal.aborted) return done(0);
    // While more than maxInFlight are open, mqtt.js reads no further packet.
    void deliver(packet, ticket, 1).then(() => done(0));
  };

  const clientId = o.clientId ?? clientIdOf(ctx.name);
  // A restart in this process resumes the session only once the last connection with this id
  // said goodbye: a broker taking a session over drops what it had not read yet (the last acks).
  if (!(await within(ctx.scheduler, sessionClosed(o.url, clientId), o.closeTimeout + 5000))) {
    ctx.logger.warn(`node '${ctx.name}': another connection of this process still uses client id '${clientId}'; connecting anyway`);
  }
  if (io.signal.aborted) return;
  const l = mqttConnect(
    ctx,
    {
      ...o,
      clientId,
      sessionExpiry: Math.ceil(o.sessionExpiry / 1000),
      receiveMaximum: Math.min(o.maxInFlight, 65_535),
      customHandleAcks,
    },
    io.signal,
  );
  acks = new HeldAcks(l.client, () => l.generation);
  // QoS 0 messages (and QoS 1/2 ones once acked, which pass here): the loop waits while the cap is reached.
  l.client.handleMessage = (packet, callback) => {
    if (packet.qos !== 0 || io.signal.aborted) return callback();
    void deliver(packet, undefined, 1).then(() => callback());
  };
  const subscribe = () => {
    // Retain handling 1: retained messages only when the subscription is new, not on every resumed session.
    const map = Object.fromEntries(filters.map((f) => [f, { qos: o.qos as 0 | 1 | 2, rh: 1 }]));
    l.client.subscribe(map, (err: Error | null, granted?: ISubscriptionGrant[]) => {
      if (err) {
        const text = `node '${ctx.name}': cannot subscribe to ${filters.join(', ')} at ${l.shown}: ${l.clean(errorMessage(err))}`;
        // A connection lost meanwhile subscribes again when it is back.
        if (l.client.connected) ctx.logger.error(text);
        else ctx.logger.warn(`${text}; subscribing again on the next connection`);
        return;
      }
      for (const g of granted ?? []) {
        if (g.qos >= 128)
          ctx.logger.error(`node '${ctx.name}': the broker at ${l.shown} refused the subscription to '${g.topic}' (code ${g.qos})`);
      }
    });
  };
  l.client.on('connect', subscribe);

  await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
  // Let in-flight events settle so their acks are written before the connection goes.
  await within(ctx.scheduler, io.settled(), o.closeTimeout);
  if (io.inFlight > 0) {
    ctx.logger.warn(
      `node '${ctx.name}': closing ${l.shown} with ${io.inFlight} events unsettled; the broker redelivers them to this session`,
    );
  }
  await l.close(5000);
}

/**
 * Source subscribing to MQTT topic filters (MQTT 5). With QoS 1 or 2 the broker's ack
 * (PUBACK/PUBREC) is sent only once the event settled downstream; the session is persistent
 * (`clientId`, default `tributary_<node name>`, kept `sessionExpiry` after a disconnect), so
 * whatever was not acked when the process died or the connection dropped is redelivered when
 * it comes back: at least once, nothing lost. A nacked event is emitted again after
 * `nackDelay` (doubling, up to 30s) with its ack still held; `maxDeliver` bounds the attempts.
 * At most `maxInFlight` events are open (the broker is asked for that receive maximum, and the
 * client stops reading beyond it). A message that fails to decode becomes an error event naming
 * its topic, acked whatever becomes of it. QoS 0 is at most once. Headers: `mqtt-topic`,
 * `mqtt-qos`, `mqtt-retain`, `mqtt-dup` and the user properties.
 *
 * @example
 * ```ts
 * net.add('readings', connectors.mqttSource({ topic: ['sensors/+/temp', 'alarms/#'], qos: 1, maxInFlight: 200 }));
 * ```
 */
export const mqttSource = defineNode({
  name: 'mqtt_source',
  io: 'network',
  role: 'source',
  summary:
    'Subscribes to MQTT topic filters (persistent session); QoS 1/2 acked to the broker after settlement, redelivered after a crash.',
  options: mqttSourceOptions,
  positional: ['topic'],
  example: "net.add('readings', connectors.mqttSource({ topic: 'sensors/+/temp', qos: 1 }));",
  luaExample: 'tb.create_mqtt_source("readings", { topic = { "sensors/+/temp", "alarms/#" }, qos = 1 })',
  build: (o) => {
    const filters = filtersOf(o.topic);
    return { role: 'source', kind: 'mqtt_source', create: (ctx) => flowSource(ctx, o.maxInFlight, (io) => consume(ctx, o, filters, io)) };
  },
});
