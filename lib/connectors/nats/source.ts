import { shownUrl } from '../../util/redact';
import type { ConsumerMessages, JsMsg, Msg, NatsConnection } from 'nats';
import { errorMessage, TributaryError } from '../../errors';
import { defineNode } from '../../nodes/registry';
import { POSITION_HEADER } from '../../state/types';
import type { NodeContext } from '../../nodes/types';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { deliveryFields } from '../fields';
import { emitMessage, flowSource, type FlowIO } from '../flow';
import { sleep, within } from '../retry';
import { closeNats, defaultNatsUrl, natsConnect, natsModule, natsUrlField } from './connection';

/** The options of {@link natsSource}, declared once: types, validation, defaults and docs come from here. */
export const natsSourceOptions = {
  subject: opt.string('subject to read, wildcards allowed (the consumer filter with stream)').require(),
  stream: opt.string('JetStream stream; without it, a core subscription (at most once)'),
  durable: opt.string('durable consumer name (default: the node name)'),
  url: natsUrlField,
  queue: opt.string('queue group of a core subscription'),
  deliverPolicy: opt.enum(['all', 'new', 'last'] as const, 'where a new consumer starts').withDefault('all'),
  ackWait: opt.duration('redeliver a message not acked within this (new consumers)', { min: 1 }).withDefault('30s'),
  maxDeliver: opt.integer('deliveries before JetStream gives up on a message (new consumers; default unlimited)', { min: 1 }),
  nackDelay: opt
    .duration('delay before a nacked message is redelivered, doubled per redelivery up to ackWait (0: at once)', { min: 0 })
    .withDefault('1s'),
  maxInFlight: deliveryFields.maxInFlight.withDefault(256),
  codec: deliveryFields.codec.describe('payload decoding: json, string or bytes (a message that fails to decode becomes an error event)'),
  closeTimeout: deliveryFields.closeTimeout,
};

/** Options of {@link natsSource}. */
export type NatsSourceOptions = InputOf<typeof natsSourceOptions>;
type Resolved = OutputOf<typeof natsSourceOptions>;

/** The part of NATS's `MsgHdrs` read here (typed structurally so the published declarations need no nats typings). */
interface HeaderSource {
  keys(): string[];
  get(key: string): string;
}

/**
 * NATS headers as a plain record (first value of each), plus the subject under `nats-subject`.
 *
 * @example
 * ```ts
 * headersOf('bets.c1', undefined); // { 'nats-subject': 'bets.c1' }
 * ```
 */
export function headersOf(subject: string, h: HeaderSource | undefined): Record<string, string> {
  const out: Record<string, string> = { 'nats-subject': subject };
  if (h) for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

/** A durable name NATS accepts, from a node name. */
function durableName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

async function ensureConsumer(ctx: NodeContext, nc: NatsConnection, o: Resolved, durable: string, url: string): Promise<void> {
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
      c.filter_subject !== undefined && c.filter_subject !== o.subject
        ? `filter '${c.filter_subject}' (option subject '${o.subject}')`
        : '',
      c.ack_wait !== undefined && Math.round(c.ack_wait / 1e6) !== o.ackWait
        ? `ackWait ${Math.round(c.ack_wait / 1e6)}ms (option ${o.ackWait}ms)`
        : '',
    ].filter(Boolean);
    if (differs.length) {
      ctx.logger.warn(
        `node '${ctx.name}': durable consumer '${durable}' on stream '${o.stream}' already exists with ${differs.join(', ')}; using it as it is`,
      );
    }
    return;
  } catch (err) {
    if (!/not found/i.test(errorMessage(err)))
      throw new Error(`consumer '${durable}' on stream '${o.stream}' at ${url}: ${errorMessage(err)}`);
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

/** `url` is the address as shown in messages (no password). */
async function consumeJetStream(ctx: NodeContext, o: Resolved, nc: NatsConnection, io: FlowIO, url: string, acks: AckBatch): Promise<void> {
  const durable = partitionDurable(ctx, o.durable ?? durableName(ctx.name));
  // Kept across reconnects: a server that restarted may have forgotten acks it had received.
  const acked = new AckedSequences(ctx);
  // The consumer's backlog as the last message told it (`info.pending`): the source's lag.
  let pending: number | undefined;
  ctx.reportProgress(() => (pending === undefined ? {} : { lag: pending, unit: 'messages' }));
  for (let attempt = 0; !io.signal.aborted; attempt++) {
    let messages: ConsumerMessages | undefined;
    try {
      await ensureConsumer(ctx, nc, o, durable, url);
      const consumer = await nc.jetstream().consumers.get(o.stream!, durable);
      // Pull requests expire after PULL_EXPIRES (heartbeats every half of it): a pull left pending on
      // a cluster server that died is noticed within seconds, not after the client's 30 s default.
      messages = await consumer.consume({ max_messages: Math.min(o.maxInFlight, 1000), expires: PULL_EXPIRES });
      const stop = () => void messages?.close();
      // Stopped while the consumer was being set up: the abort event has fired already.
      if (io.signal.aborted) stop();
      io.signal.addEventListener('abort', stop, { once: true });
      attempt = 0;
      for await (const m of messages) {
        if (io.signal.aborted) {
          // Fetched but not handed to the network: give it back at once.
          m.nak();
          continue;
        }
        pending = m.info.pending;
        // Not only `redelivered` ones: a server that lost its consumer state delivers them as new.
        if (acked.seen(m)) {
          m.ack(); // settled here before: ack again, do not process twice
          continue;
        }
        await emitJs(o, io, m, acked, acks);
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

/**
 * The subject a JetStream source reads in a partitioned group run: `<prefix>.<index>` for a
 * subject `<prefix>.*` or `<prefix>.>` when `ctx.partition` is set; the subject itself
 * otherwise. Any other subject under a partition is an error naming the node.
 *
 * @example
 * ```ts
 * partitionSubject(ctx, 'bets.*'); // 'bets.3' when ctx.partition.index is 3
 * ```
 */
export function partitionSubject(ctx: Pick<NodeContext, 'name' | 'partition'>, subject: string): string {
  const p = ctx.partition;
  if (!p) return subject;
  const m = /^(.+)\.(\*|>)$/.exec(subject);
  if (!m || m[1].includes('*') || m[1].includes('>')) {
    throw new TributaryError(
      'BAD_OPTION',
      `node '${ctx.name}': in a partitioned run (partition ${p.index} of ${p.count}, group '${p.group}') option 'subject' must end in '.*' or '.>' with no other wildcard, so that the node reads '<prefix>.${p.index}'; got '${subject}'`,
    );
  }
  return `${m[1]}.${p.index}`;
}

/** The durable of a partition: `<durable>_p<index>`; the durable itself outside a partitioned run. */
function partitionDurable(ctx: NodeContext, durable: string): string {
  return ctx.partition ? `${durable}_p${ctx.partition.index}` : durable;
}

/** The redelivery delay of a nack: `nackDelay` doubled per earlier delivery, capped at `ackWait`. */
function nackDelay(o: Resolved, deliveryCount: number): number | undefined {
  if (!o.nackDelay) return undefined;
  return Math.min(Math.max(o.ackWait, o.nackDelay), o.nackDelay * 2 ** Math.max(0, Math.min(20, deliveryCount - 1)));
}

/**
 * How long one pull request of a JetStream source lives (ms). Shorter than nats.js's 30 s default:
 * when the server holding the pull dies (a cluster node), the source re-pulls within about this
 * long instead of stalling its partition for half a minute (measured: 43 s stalls, 17 s with 5 s).
 */
const PULL_EXPIRES = 5_000;

/** How many acked stream sequences a JetStream source remembers to recognise redeliveries of them. */
const REMEMBERED_ACKS = 65_536;

/**
 * The stream sequences this source acked, most recent {@link REMEMBERED_ACKS}. A server killed
 * before it persisted consumer state (nats-server syncs it periodically) redelivers messages
 * whose acks it had received; those are acked again, not processed twice.
 */
class AckedSequences {
  private readonly keys = new Set<string>();
  private skipped = 0;
  constructor(private readonly ctx: NodeContext) {}
  /** Sequence and store time: a stream deleted and made again reuses sequences, never both. */
  private static key(m: JsMsg): string {
    return `${m.seq}/${m.info.timestampNanos}`;
  }
  add(m: JsMsg): void {
    this.keys.add(AckedSequences.key(m));
    if (this.keys.size > REMEMBERED_ACKS) this.keys.delete(this.keys.values().next().value as string);
  }
  /** True (and counted, logged at the 1st, 1001st … time) when this message was acked before. */
  seen(m: JsMsg): boolean {
    if (!this.keys.has(AckedSequences.key(m))) return false;
    const seq = m.seq;
    if (this.skipped++ % 1000 === 0) {
      this.ctx.logger.warn(
        `node '${this.ctx.name}': JetStream redelivered message ${seq}, which was acked already (the server lost the ack, e.g. in a restart); acked again, not processed twice (${this.skipped} so far)`,
      );
    }
    return true;
  }
}

/**
 * Acks sent together: the acks of one turn of the event loop go out in one socket write (nats.js
 * flushes its buffer a microtask after the first write, so acks settled in separate turns
 * would each cost a write and a wake-up of the server). Flushed before the connection drains.
 */
class AckBatch {
  private msgs: JsMsg[] = [];
  private scheduled = false;
  constructor(private readonly ctx: NodeContext) {}
  ack(m: JsMsg): void {
    this.msgs.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }
  flush(): void {
    this.scheduled = false;
    const msgs = this.msgs;
    if (msgs.length === 0) return;
    this.msgs = [];
    try {
      for (const m of msgs) m.ack();
    } catch (e) {
      // The connection closed under them: JetStream redelivers what was not acked (at least once).
      this.ctx.logger.warn(
        `node '${this.ctx.name}': could not send ${msgs.length} acks: ${errorMessage(e)}; JetStream will redeliver them`,
      );
    }
  }
}

function emitJs(o: Resolved, io: FlowIO, m: JsMsg, acked: AckedSequences, acks: AckBatch): Promise<void> {
  const headers = headersOf(m.subject, m.headers);
  // Keyed state recognises a redelivery of a message it already includes by this (lib/state).
  headers[POSITION_HEADER] = `nats:${m.info.stream}#${m.seq}`;
  const init = { headers };
  const settle = (s: { acked: boolean }) => {
    if (!s.acked) return m.nak(nackDelay(o, m.info.deliveryCount));
    acked.add(m);
    acks.ack(m);
  };
  // Redelivering cannot fix a decode failure: if its error event is nacked, the message is terminated.
  const terminal = (s: { acked: boolean }) => (s.acked ? m.ack() : m.term());
  return emitMessage(io, m.data, o.codec, `message ${m.info.streamSequence} on '${m.subject}'`, init, settle, terminal);
}

async function subscribeCore(ctx: NodeContext, o: Resolved, nc: NatsConnection, io: FlowIO): Promise<void> {
  const sub = nc.subscribe(o.subject, o.queue ? { queue: o.queue } : {});
  io.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
  const noop = () => undefined;
  for await (const m of sub as AsyncIterable<Msg>) {
    await emitMessage(io, m.data, o.codec, `message on '${m.subject}'`, { headers: headersOf(m.subject, m.headers) }, noop);
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
 * events to settle, then drains the connection. In a partitioned group run (`ctx.partition`,
 * docs/scale-out.md) a JetStream source with subject `<prefix>.*` or `<prefix>.>` reads only
 * `<prefix>.<index>` through the durable `<durable>_p<index>` (created if missing, with the
 * same settings); core subscriptions are not partitioned.
 *
 * @example
 * ```ts
 * net.add('bets', connectors.natsSource({ subject: 'bets.>', stream: 'BETS', durable: 'tb', maxInFlight: 500 }));
 * net.add('ticks', connectors.natsSource({ subject: 'ticks', queue: 'workers' })); // core NATS
 * ```
 */
export const natsSource = defineNode({
  name: 'nats_source',
  io: 'network',
  role: 'source',
  summary: 'Reads a NATS JetStream durable consumer (ack after settlement, redelivery on nack/timeout) or a core subject.',
  options: natsSourceOptions,
  positional: ['subject'],
  example: "net.add('bets', connectors.natsSource({ subject: 'bets.>', stream: 'BETS', durable: 'tb' }));",
  luaExample: 'tb.create_nats_source("in", { subject = "bets.>", stream = "BETS", durable = "tb" })',
  build: (o) => {
    if (o.subject.trim() === '') throw new TributaryError('BAD_OPTION', "node kind 'nats_source': option 'subject' must not be empty");
    if (o.queue && o.stream)
      throw new TributaryError(
        'BAD_OPTION',
        "node kind 'nats_source': option 'queue' is for core subscriptions; JetStream consumers share work through 'durable'",
      );
    if (!o.stream) {
      for (const k of ['durable', 'maxDeliver'] as const) {
        if (o[k] !== undefined)
          throw new TributaryError('BAD_OPTION', `node kind 'nats_source': option '${k}' needs option 'stream' (JetStream)`);
      }
    }
    return {
      role: 'source',
      kind: 'nats_source',
      create: (ctx) => {
        // A partitioned run reads only its partition's subject, through its own durable.
        const r: Resolved = o.stream ? { ...o, subject: partitionSubject(ctx, o.subject) } : o;
        return flowSource(ctx, r.maxInFlight, async (io) => {
          const url = r.url ?? defaultNatsUrl();
          const nc = await natsConnect(ctx, url, io.signal);
          if (!nc) return;
          const acks = new AckBatch(ctx);
          try {
            if (r.stream) await consumeJetStream(ctx, r, nc, io, shownUrl(url), acks);
            else await subscribeCore(ctx, r, nc, io);
            // Let in-flight events settle so their acks are sent before the connection goes.
            await within(ctx.scheduler, io.settled(), r.closeTimeout);
            if (io.inFlight > 0) {
              ctx.logger.warn(
                `node '${ctx.name}': closing NATS ${shownUrl(url)} with ${io.inFlight} events unsettled; JetStream will redeliver them`,
              );
            }
          } finally {
            acks.flush();
            await closeNats(ctx, nc, 5000);
          }
        });
      },
    };
  },
});
