import type { ConsumerMessages, JsMsg, Msg, MsgHdrs, NatsConnection } from 'nats';
import { errorMessage, TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import type { NodeContext } from '../../nodes/types';
import { CODECS, decodeMessage, type Codec } from '../codec';
import { flowSource, type FlowIO } from '../flow';
import { sleep, within } from '../retry';
import { closeNats, defaultNatsUrl, natsConnect, natsModule } from './connection';

/** Options of {@link natsSource}. */
export interface NatsSourceOptions {
  /** Subject to read (wildcards allowed): the consumer's filter with `stream`, the subscription without. */
  subject: string;
  /** JetStream stream to consume; without it the source is a core-NATS subscription (at most once). */
  stream?: string;
  /** Durable consumer name (JetStream); default the node name. Restarting with the same name resumes. */
  durable?: string;
  /** NATS URL (default `TRIBUTARY_NATS_URL`, else `nats://127.0.0.1:4222`). */
  url?: string;
  /** Queue group for a core subscription (load-balances between processes). */
  queue?: string;
  /** Where a new durable consumer starts: `all` (default), `new` or `last`. */
  deliverPolicy?: 'all' | 'new' | 'last';
  /** How long JetStream waits for an ack before redelivering (new consumers; default `"30s"`). */
  ackWait?: string | number;
  /** Deliveries before JetStream gives up on a message (new consumers; default unlimited). */
  maxDeliver?: number;
  /**
   * Delay before a nacked message is redelivered (default `"1s"`), doubled on each further
   * redelivery up to `ackWait`; 0 redelivers at once.
   */
  nackDelay?: string | number;
  /** Cap on events emitted but not yet settled (default 256). */
  maxInFlight?: number;
  /** Payload decoding: `json` (default), `string` or `bytes`. A message that fails to decode becomes an error event. */
  codec?: Codec;
  /** How long `stop()` lets in-flight events settle before closing the connection (default `"30s"`). */
  closeTimeout?: string | number;
}

/** Resolved options of {@link natsSource}. */
export interface NatsSourceResolved {
  subject: string;
  stream?: string;
  durable?: string;
  url?: string;
  queue?: string;
  deliverPolicy: 'all' | 'new' | 'last';
  ackWait: number;
  maxDeliver?: number;
  nackDelay: number;
  maxInFlight: number;
  codec: Codec;
  closeTimeout: number;
}

/**
 * NATS headers as a plain record (first value of each), plus the subject under `nats-subject`.
 *
 * @example
 * ```ts
 * headersOf('bets.c1', undefined); // { 'nats-subject': 'bets.c1' }
 * ```
 */
export function headersOf(subject: string, h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = { 'nats-subject': subject };
  if (h) for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

/** A durable name NATS accepts, from a node name. */
function durableName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

async function ensureConsumer(ctx: NodeContext, nc: NatsConnection, o: NatsSourceResolved, durable: string, url: string): Promise<void> {
  const { AckPolicy, DeliverPolicy, nanos } = natsModule();
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.info(o.stream!);
  } catch (err) {
    throw new Error(`JetStream stream '${o.stream}' at ${url}: ${errorMessage(err)}`);
  }
  try {
    const info = await jsm.consumers.info(o.stream!, durable);
    // An existing durable keeps its configuration: say so when it differs from the options.
    const c = info.config;
    const differs = [
      c.filter_subject !== undefined && c.filter_subject !== o.subject ? `filter '${c.filter_subject}' (option subject '${o.subject}')` : '',
      c.ack_wait !== undefined && Math.round(c.ack_wait / 1e6) !== o.ackWait ? `ackWait ${Math.round(c.ack_wait / 1e6)}ms (option ${o.ackWait}ms)` : '',
    ].filter(Boolean);
    if (differs.length) {
      ctx.logger.warn(`node '${ctx.name}': durable consumer '${durable}' on stream '${o.stream}' already exists with ${differs.join(', ')}; using it as it is`);
    }
    return;
  } catch (err) {
    if (!/not found/i.test(errorMessage(err))) throw new Error(`consumer '${durable}' on stream '${o.stream}' at ${url}: ${errorMessage(err)}`);
  }
  const deliver = { all: DeliverPolicy.All, new: DeliverPolicy.New, last: DeliverPolicy.Last }[o.deliverPolicy];
  await jsm.consumers.add(o.stream!, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: deliver,
    filter_subject: o.subject,
    ack_wait: nanos(o.ackWait),
    max_ack_pending: Math.max(o.maxInFlight, 1000),
    ...(o.maxDeliver !== undefined ? { max_deliver: o.maxDeliver } : {}),
  });
}

async function consumeJetStream(ctx: NodeContext, o: NatsSourceResolved, nc: NatsConnection, io: FlowIO, url: string): Promise<void> {
  const durable = o.durable ?? durableName(ctx.name);
  for (let attempt = 0; !io.signal.aborted; attempt++) {
    let messages: ConsumerMessages | undefined;
    try {
      await ensureConsumer(ctx, nc, o, durable, url);
      const consumer = await nc.jetstream().consumers.get(o.stream!, durable);
      messages = await consumer.consume({ max_messages: Math.min(o.maxInFlight, 1000) });
      const stop = () => void messages?.close();
      io.signal.addEventListener('abort', stop, { once: true });
      attempt = 0;
      for await (const m of messages) {
        if (io.signal.aborted) {
          // Fetched but not handed to the network: give it back at once.
          m.nak();
          continue;
        }
        await emitJs(ctx, o, io, m);
      }
      io.signal.removeEventListener('abort', stop);
      if (io.signal.aborted) return;
    } catch (err) {
      if (io.signal.aborted) return;
      ctx.logger.error(`node '${ctx.name}': ${errorMessage(err)} (NATS ${url}); retrying`);
    }
    await sleep(ctx.scheduler, Math.min(10_000, 250 * 2 ** attempt), io.signal);
  }
}

/** The redelivery delay of a nack: `nackDelay` doubled per earlier delivery, capped at `ackWait`. */
function nackDelay(o: NatsSourceResolved, deliveryCount: number): number | undefined {
  if (!o.nackDelay) return undefined;
  return Math.min(Math.max(o.ackWait, o.nackDelay), o.nackDelay * 2 ** Math.max(0, Math.min(20, deliveryCount - 1)));
}

function emitJs(ctx: NodeContext, o: NatsSourceResolved, io: FlowIO, m: JsMsg): Promise<void> {
  const init = { headers: headersOf(m.subject, m.headers) };
  const settle = (s: { acked: boolean }) => (s.acked ? m.ack() : m.nak(nackDelay(o, m.info.deliveryCount)));
  let payload: unknown;
  try {
    payload = decodeMessage(m.data, o.codec);
  } catch (err) {
    // Redelivering cannot fix it: a nacked decode failure is terminated (never redelivered).
    const terminal = (s: { acked: boolean }) => (s.acked ? m.ack() : m.term());
    return io.emitError(m.string(), new Error(`cannot decode message ${m.info.streamSequence} on '${m.subject}': ${errorMessage(err)}`), init, terminal);
  }
  return io.emit(payload, init, settle);
}

async function subscribeCore(ctx: NodeContext, o: NatsSourceResolved, nc: NatsConnection, io: FlowIO): Promise<void> {
  const sub = nc.subscribe(o.subject, o.queue ? { queue: o.queue } : {});
  io.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
  const noop = () => undefined;
  for await (const m of sub as AsyncIterable<Msg>) {
    const init = { headers: headersOf(m.subject, m.headers) };
    try {
      await io.emit(decodeMessage(m.data, o.codec), init, noop);
    } catch (err) {
      await io.emitError(m.string(), new Error(`cannot decode message on '${m.subject}': ${errorMessage(err)}`), init, noop);
    }
  }
}

/**
 * Source reading NATS. With `stream`, a JetStream durable pull consumer: each message is
 * acked only once its event was settled downstream (a sink wrote it, a filter dropped it),
 * nacked messages are redelivered (after `nackDelay`, 1s by default and doubling per
 * redelivery, so a failing message does not spin), unacked ones after `ackWait`, and at
 * most `maxInFlight` events are open at a time. Restarting with the same `durable` resumes
 * where the last run's acks stopped: at least once, nothing lost. Without `stream`, a core
 * subscription (at most once; `queue` for a queue group). Messages that fail to decode become
 * error events carrying the raw text; if such an event is nacked, the message is terminated
 * (`term()`, never redelivered) rather than redelivered in a loop. On `stop()` it stops fetching, waits for in-flight
 * events to settle, then drains the connection.
 *
 * @example
 * ```ts
 * net.add('bets', connectors.natsSource({ subject: 'bets.>', stream: 'BETS', durable: 'tb', maxInFlight: 500 }));
 * net.add('ticks', connectors.natsSource({ subject: 'ticks', queue: 'workers' })); // core NATS
 * ```
 */
export const natsSource = defineNode<NatsSourceOptions, NatsSourceResolved>({
  name: 'nats_source',
  io: 'network',
  role: 'source',
  summary: 'Reads a NATS JetStream durable consumer (ack after settlement, redelivery on nack/timeout) or a core subject.',
  options: {
    subject: { type: 'string', required: true, description: 'subject to read, wildcards allowed (the consumer filter with stream)' },
    stream: { type: 'string', description: 'JetStream stream; without it, a core subscription (at most once)' },
    durable: { type: 'string', description: 'durable consumer name (default: the node name)' },
    url: { type: 'string', description: 'NATS URL (default TRIBUTARY_NATS_URL or nats://127.0.0.1:4222)' },
    queue: { type: 'string', description: 'queue group of a core subscription' },
    deliverPolicy: { type: 'string', enum: ['all', 'new', 'last'], default: 'all', description: 'where a new consumer starts' },
    ackWait: { type: 'duration', min: 1, default: '30s', description: 'redeliver a message not acked within this (new consumers)' },
    maxDeliver: { type: 'integer', min: 1, description: 'deliveries before JetStream gives up on a message (new consumers; default unlimited)' },
    nackDelay: { type: 'duration', min: 0, default: '1s', description: 'delay before a nacked message is redelivered, doubled per redelivery up to ackWait (0: at once)' },
    maxInFlight: { type: 'integer', min: 1, default: 256, description: 'cap on emitted but unsettled events' },
    codec: { type: 'string', enum: [...CODECS], default: 'json', description: 'payload decoding: json, string or bytes' },
    closeTimeout: { type: 'duration', min: 0, default: '30s', description: 'on stop, how long in-flight events may take to settle before the connection closes' },
  },
  positional: ['subject'],
  example: "net.add('bets', connectors.natsSource({ subject: 'bets.>', stream: 'BETS', durable: 'tb' }));",
  luaExample: 'tb.create_nats_source("in", { subject = "bets.>", stream = "BETS", durable = "tb" })',
  build: (o) => {
    if (o.subject.trim() === '') throw new TributaryError('BAD_OPTION', "node kind 'nats_source': option 'subject' must not be empty");
    if (o.queue && o.stream) throw new TributaryError('BAD_OPTION', "node kind 'nats_source': option 'queue' is for core subscriptions; JetStream consumers share work through 'durable'");
    if (!o.stream) {
      for (const k of ['durable', 'maxDeliver'] as const) {
        if (o[k] !== undefined) throw new TributaryError('BAD_OPTION', `node kind 'nats_source': option '${k}' needs option 'stream' (JetStream)`);
      }
    }
    return {
      role: 'source',
      kind: 'nats_source',
      create: (ctx) =>
        flowSource(ctx, o.maxInFlight, async (io) => {
          const url = o.url ?? defaultNatsUrl();
          const nc = await natsConnect(ctx, url, io.signal);
          if (!nc) return;
          try {
            if (o.stream) await consumeJetStream(ctx, o, nc, io, url);
            else await subscribeCore(ctx, o, nc, io);
            // Let in-flight events settle so their acks are sent before the connection goes.
            await within(ctx.scheduler, io.settled(), o.closeTimeout);
            if (io.inFlight > 0) {
              ctx.logger.warn(`node '${ctx.name}': closing NATS ${url} with ${io.inFlight} events unsettled; JetStream will redeliver them`);
            }
          } finally {
            await closeNats(ctx, nc, 5000);
          }
        }),
    };
  },
});
