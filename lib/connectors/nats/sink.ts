import { shownUrl } from '../../util/redact';
import type { JetStreamClient, NatsConnection } from 'nats';
import type { Observable } from 'rxjs';
import { TributaryError } from '../../errors';
import type { Event } from '../../event';
import { opt, type InputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import { encodePayload } from '../codec';
import { deliveryFields } from '../fields';
import { publishingSink } from '../flow';
import { publishWithRetry } from '../retry';
import { closeNats, defaultNatsUrl, natsConnect, natsModule, natsUrlField } from './connection';
import { POSITION_HEADER } from '../../state/types';
import { partitionOf } from '../../cluster/partition';
import { pathGetter } from '../../eventtime/fields';

/**
 * The partition suffix of a partitioning `nats_sink`: a function of the payload giving
 * `.<partition>`, or undefined without `partitionKey`. A missing key throws naming the field
 * (the sink's error adds the node).
 */
function partitioner(o: { partitionKey?: unknown; partitions?: number }): ((payload: unknown) => string) | undefined {
  const key = o.partitionKey;
  if (key === undefined && o.partitions === undefined) return undefined;
  if (key === undefined) throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': option 'partitions' needs option 'partitionKey'");
  if (o.partitions === undefined)
    throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': option 'partitionKey' needs option 'partitions'");
  const count = o.partitions;
  if (typeof key === 'function') {
    return (p) => {
      const k = (key as (payload: unknown) => unknown)(p);
      if (k === undefined) throw new TributaryError('BAD_OPTION', "option 'partitionKey': the function returned no key");
      return `.${partitionOf(k, count)}`;
    };
  }
  if (typeof key !== 'string' || key === '') {
    throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': option 'partitionKey' must be a payload path or a function");
  }
  const get = pathGetter(key);
  return (p) => {
    const k = get(p);
    if (k === undefined) throw new TributaryError('BAD_OPTION', `option 'partitionKey': payload has no field '${key}'`);
    return `.${partitionOf(k, count)}`;
  };
}

/** The options of {@link natsSink}, declared once: types, validation, defaults and docs come from here. */
export const natsSinkOptions = {
  subject: opt.string('fixed subject to publish to'),
  subjectFn: opt.fn<(payload: any, event: Event) => string>('(payload, event) => subject; wins over subject'),
  jetstream: opt.boolean('publish through JetStream and ack after the stream stored it; false: core NATS').withDefault(true),
  url: natsUrlField,
  msgId: opt.fn<(payload: any, event: Event) => string>('(payload, event) => JetStream message id, for the duplicate window'),
  codec: deliveryFields.codec,
  concurrency: deliveryFields.concurrency.describe('publishes awaiting their ack at once'),
  retries: deliveryFields.retries.describe('retries of a failed JetStream publish, with back-off from 250ms'),
  partitionKey: opt.any<string | ((payload: any) => unknown)>(
    'payload path of the partition key ("customer.id") or a function payload => key (JS or Lua); publishes to <subject>.<partitionOf(key, partitions)>',
  ),
  partitions: opt.integer('how many partitions partitionKey splits the subject into (docs/scale-out.md)', { min: 1 }),
};

/** Options of {@link natsSink}. */
export type NatsSinkOptions = InputOf<typeof natsSinkOptions>;

/**
 * Sink publishing each event to NATS. With JetStream (the default) the event is acked only
 * once the stream acknowledged the publish, retried with back-off on failure and nacked with
 * the reason (naming the subject and address) when retries run out; on core NATS it is acked
 * once written to the connection, and the connection is flushed before the sink completes.
 * The event's headers (except `nats-subject`) become message headers. With `partitionKey`
 * and `partitions` it is a partitioning publisher: each event goes to
 * `<subject>.<partitionOf(key, partitions)>` (lib/cluster/partition.ts, docs/scale-out.md),
 * the subjects a partitioned group's `nats_source` instances read.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.natsSink({ subjectFn: (a) => `alerts.${a.customer}` }));
 * net.add('ticks_out', connectors.natsSink({ subject: 'ticks', jetstream: false }));
 * ```
 */
export const natsSink = defineNode({
  name: 'nats_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to NATS: JetStream with publish acks (default), or core NATS; subject fixed or per event.',
  options: natsSinkOptions,
  positional: ['subject'],
  example: "net.add('alerts_out', connectors.natsSink({ subject: 'alerts.liability' }));",
  luaExample: 'tb.create_nats_sink("alerts_out", "alerts.liability")',
  build: (o) => {
    if (o.subject === undefined && o.subjectFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': give option 'subject' or 'subjectFn'");
    }
    const suffix = partitioner(o);
    if (o.msgId && !o.jetstream) throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': option 'msgId' needs jetstream: true");
    return {
      role: 'sink',
      kind: 'nats_sink',
      create: (ctx) => (source: Observable<Event>) => {
        const url = o.url ?? defaultNatsUrl();
        const controller = new AbortController();
        let connection: Promise<NatsConnection | undefined> | undefined;
        let js: JetStreamClient | undefined;
        const connected = async (): Promise<NatsConnection> => {
          connection ??= natsConnect(ctx, url, controller.signal);
          const nc = await connection;
          if (!nc) throw new Error(`not connected to NATS at ${shownUrl(url)}`);
          return nc;
        };
        const publish = async (event: Event) => {
          const nc = await connected();
          const base = o.subjectFn ? o.subjectFn(event.payload, event) : o.subject!;
          if (typeof base !== 'string' || base === '') throw new Error(`subjectFn returned ${JSON.stringify(base)}, not a subject`);
          const subject = suffix ? base + suffix(event.payload) : base;
          const data = encodePayload(event.payload, o.codec);
          let hdrs: import('nats').MsgHdrs | undefined;
          const h = event.meta.headers;
          // The subject and the source position (lib/state) describe the message it came in as, not this one.
          const own = (k: string) => k !== 'nats-subject' && k !== POSITION_HEADER;
          if (h && Object.keys(h).some(own)) {
            hdrs = natsModule().headers();
            for (const [k, v] of Object.entries(h)) if (own(k)) hdrs.set(k, v);
          }
          if (!o.jetstream) {
            nc.publish(subject, data, hdrs ? { headers: hdrs } : undefined);
            return;
          }
          const client = (js ??= nc.jetstream());
          const msgID = o.msgId?.(event.payload, event);
          const options = { ...(hdrs ? { headers: hdrs } : {}), ...(msgID ? { msgID } : {}) };
          await publishWithRetry(() => client.publish(subject, data, options), {
            scheduler: ctx.scheduler,
            retries: o.retries,
            signal: controller.signal,
            what: `JetStream publish to '${subject}' at ${shownUrl(url)}`,
          });
        };
        const close = async () => {
          if (!connection) return;
          const nc = await connection;
          if (nc) {
            if (!o.jetstream) await nc.flush().catch(() => undefined);
            await closeNats(ctx, nc, 5000);
          }
        };
        // Cut off (drain timeout) or done: make sure the connection does not outlive the sink.
        const cutOff = () => void connection?.then((nc) => (nc && !nc.isClosed() ? nc.close() : undefined)).catch(() => undefined);
        return publishingSink(ctx, source, { publish, concurrency: o.concurrency, close, controller, cutOff });
      },
    };
  },
});
