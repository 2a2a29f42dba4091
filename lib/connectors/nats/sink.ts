import type { JetStreamClient, NatsConnection } from 'nats';
import { Observable, concat, defer, ignoreElements } from 'rxjs';
import { errorMessage, TributaryError } from '../../errors';
import type { Event } from '../../event';
import { defineNode } from '../../nodes/registry';
import { eventOf, sinkStage } from '../../nodes/stage';
import { CODECS, encodePayload, type Codec } from '../codec';
import { backoffDelay, sleep } from '../retry';
import { closeNats, defaultNatsUrl, natsConnect, natsModule } from './connection';

/** Options of {@link natsSink}. */
export interface NatsSinkOptions {
  /** Fixed subject to publish to. */
  subject?: string;
  /** Subject per event, e.g. `(alert) => \`alerts.${alert.customer}\``; wins over `subject`. */
  subjectFn?: (payload: any, event: Event) => string;
  /** Publish through JetStream and ack the event only after the stream stored it (default true); false publishes on core NATS. */
  jetstream?: boolean;
  /** NATS URL (default `TRIBUTARY_NATS_URL`, else `nats://127.0.0.1:4222`). */
  url?: string;
  /** JetStream message id per event, for the stream's duplicate window (exactly-once publishing across redeliveries). */
  msgId?: (payload: any, event: Event) => string;
  /** Payload encoding: `json` (default), `string` (strings as UTF-8) or `bytes`. */
  codec?: Codec;
  /** Publishes awaiting their ack at once (default 64); order on the wire is kept. */
  concurrency?: number;
  /** Retries of a failed JetStream publish, with exponential back-off from `"250ms"` (default 3). */
  retries?: number;
}

/** Resolved options of {@link natsSink}. */
export interface NatsSinkResolved {
  subject?: string;
  subjectFn?: (payload: unknown, event: Event) => string;
  jetstream: boolean;
  url?: string;
  msgId?: (payload: unknown, event: Event) => string;
  codec: Codec;
  concurrency: number;
  retries: number;
}

/**
 * Sink publishing each event to NATS. With JetStream (the default) the event is acked only
 * once the stream acknowledged the publish, retried with back-off on failure and nacked with
 * the reason (naming the subject and address) when retries run out; on core NATS it is acked
 * once written to the connection, and the connection is flushed before the sink completes.
 * The event's headers (except `nats-subject`) become message headers.
 *
 * @example
 * ```ts
 * net.add('alerts_out', connectors.natsSink({ subjectFn: (a) => `alerts.${a.customer}` }));
 * net.add('ticks_out', connectors.natsSink({ subject: 'ticks', jetstream: false }));
 * ```
 */
export const natsSink = defineNode<NatsSinkOptions, NatsSinkResolved>({
  name: 'nats_sink',
  io: 'network',
  role: 'sink',
  summary: 'Publishes each event to NATS: JetStream with publish acks (default), or core NATS; subject fixed or per event.',
  options: {
    subject: { type: 'string', description: 'fixed subject to publish to' },
    subjectFn: { type: 'function', description: '(payload, event) => subject; wins over subject' },
    jetstream: { type: 'boolean', default: true, description: 'publish through JetStream and ack after the stream stored it; false: core NATS' },
    url: { type: 'string', description: 'NATS URL (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)' },
    msgId: { type: 'function', description: '(payload, event) => JetStream message id, for the duplicate window' },
    codec: { type: 'string', enum: [...CODECS], default: 'json', description: 'payload encoding: json, string or bytes' },
    concurrency: { type: 'integer', min: 1, default: 64, description: 'publishes awaiting their ack at once' },
    retries: { type: 'integer', min: 0, default: 3, description: 'retries of a failed JetStream publish, with back-off from 250ms' },
  },
  positional: ['subject'],
  example: "net.add('alerts_out', connectors.natsSink({ subject: 'alerts.liability' }));",
  luaExample: 'tb.create_nats_sink("alerts_out", "alerts.liability")',
  build: (o) => {
    if (o.subject === undefined && o.subjectFn === undefined) {
      throw new TributaryError('BAD_OPTION', "node kind 'nats_sink': give option 'subject' or 'subjectFn'");
    }
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
          if (!nc) throw new Error(`not connected to NATS at ${url}`);
          return nc;
        };
        const publish = async (event: Event) => {
          const nc = await connected();
          const subject = o.subjectFn ? o.subjectFn(event.payload, event) : o.subject!;
          if (typeof subject !== 'string' || subject === '') throw new Error(`subjectFn returned ${JSON.stringify(subject)}, not a subject`);
          const data = encodePayload(event.payload, o.codec);
          let hdrs: import('nats').MsgHdrs | undefined;
          const h = event.meta.headers;
          if (h && Object.keys(h).some((k) => k !== 'nats-subject')) {
            hdrs = natsModule().headers();
            for (const [k, v] of Object.entries(h)) if (k !== 'nats-subject') hdrs.set(k, v);
          }
          if (!o.jetstream) {
            nc.publish(subject, data, hdrs ? { headers: hdrs } : undefined);
            return;
          }
          js ??= nc.jetstream();
          const msgID = o.msgId?.(event.payload, event);
          for (let attempt = 0; ; attempt++) {
            try {
              await js.publish(subject, data, { ...(hdrs ? { headers: hdrs } : {}), ...(msgID ? { msgID } : {}) });
              return;
            } catch (err) {
              if (attempt >= o.retries || controller.signal.aborted) {
                throw new Error(`JetStream publish to '${subject}' at ${url} failed after ${attempt + 1} attempt(s): ${errorMessage(err)}`);
              }
              // Cut off (stop at the drain timeout): no more retries.
              await sleep(ctx.scheduler, backoffDelay(attempt, { initial: 250, max: 10_000 }), controller.signal);
              if (controller.signal.aborted) throw new Error(`JetStream publish to '${subject}' at ${url}: given up, the sink was stopped`);
            }
          }
        };
        const close = defer(async () => {
          if (!connection) return;
          const nc = await connection;
          if (nc) {
            if (!o.jetstream) await nc.flush().catch(() => undefined);
            await closeNats(ctx, nc, 5000);
          }
        }).pipe(ignoreElements());
        const stage = sinkStage(ctx, (e: Event) => publish(e), o.concurrency, eventOf)(source);
        return new Observable<never>((subscriber) => {
          const sub = concat(stage, close).subscribe(subscriber);
          return () => {
            controller.abort();
            sub.unsubscribe();
            // Cut off (drain timeout) or done: make sure the connection does not outlive the sink.
            void connection?.then((nc) => (nc && !nc.isClosed() ? nc.close() : undefined)).catch(() => undefined);
          };
        });
      },
    };
  },
});
