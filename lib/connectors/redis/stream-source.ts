import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Settlement } from '../../delivery';
import { errorMessage, TributaryError } from '../../errors';
import { opt, type InputOf, type OutputOf } from '../../nodes/options';
import { defineNode } from '../../nodes/registry';
import type { NodeContext } from '../../nodes/types';
import { deliveryFields } from '../fields';
import { emitMessage, flowSource, type FlowIO } from '../flow';
import { backoffDelay, sleep, within } from '../retry';
import { closeRedis, redisConnect, redisConnectionOptions, type RedisLink } from './connection';
import { autoclaimReply, entriesOf, readReply, splitFields, type StreamEntry } from './entries';

/** The options of {@link redisStreamSource}, declared once: types, validation, defaults and docs come from here. */
export const redisStreamSourceOptions = {
  stream: opt.string('stream key to read').require(),
  group: opt.string('consumer group, created (with MKSTREAM) if missing (default: the node name)'),
  consumer: opt.string(
    'consumer name in the group; a stable one lets a restart read its own pending entries back at once (default: unique per process)',
  ),
  start: opt.string('where a new group starts: "0" the whole stream, "$" only new entries, or an entry id').withDefault('0'),
  field: opt.string('entry field holding the payload (the other fields become headers)').withDefault('data'),
  codec: deliveryFields.codec.describe(
    'payload decoding: json, string or bytes (an entry that fails to decode becomes an error event naming stream and id)',
  ),
  maxInFlight: deliveryFields.maxInFlight.withDefault(256),
  batch: opt.integer('entries asked for per read at most (COUNT)', { min: 1 }).withDefault(100),
  block: opt.timer('how long one XREADGROUP waits for new entries (BLOCK)', { min: 1 }).withDefault('5s'),
  claimIdle: opt
    .timer('take over (XAUTOCLAIM) entries pending this long with any consumer of the group, a dead one included; 0: never', { min: 0 })
    .withDefault('60s'),
  nackDelay: opt
    .timer('delay before a nacked entry is read again, doubled per retry up to claimIdle (or 60s); 0: at once', { min: 0 })
    .withDefault('1s'),
  closeTimeout: deliveryFields.closeTimeout,
  ...redisConnectionOptions,
};

/** Options of {@link redisStreamSource}. */
export type RedisStreamSourceOptions = InputOf<typeof redisStreamSourceOptions>;
type Resolved = OutputOf<typeof redisStreamSourceOptions>;

/**
 * A consumer name unique to this process and node instance: host, pid and a random tag.
 *
 * @example
 * ```ts
 * generatedConsumer(); // 'web-1-4711-3f2a9c1b'
 * ```
 */
export function generatedConsumer(): string {
  return `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** The state of one consuming source: what it holds, what to retry, and its two connections. */
class Reader {
  /** Entries fetched, emitted, or being acked: never emitted a second time meanwhile. */
  readonly held = new Set<string>();
  /** Nacked ids whose retry delay passed: claimed back and emitted before new entries. */
  readonly retries: string[] = [];
  /** Nacks per id, for the retry back-off. */
  readonly attempts = new Map<string, number>();
  readonly acking = new Set<Promise<unknown>>();
  private ackBatch: string[] = [];
  /** Read this consumer's own pending list again (at start, after a reconnect or a failed read). */
  rereadOwn = true;
  needGroup = true;
  claimDue = false;
  wakeRequested = false;
  blocking = false;
  readerId: number | undefined;
  warnedClosed = false;
  /** Resolved when enough events settled for a worthwhile read (see `worthReading`), or on a wake-up. */
  private roomWaiter: (() => void) | undefined;
  /** Rejects when the network stops the source: no command of the loop outlives that. */
  private readonly stopped: Promise<never>;

  constructor(
    readonly ctx: NodeContext,
    readonly o: Resolved,
    readonly io: FlowIO,
    readonly reader: RedisLink,
    readonly cmd: RedisLink,
    readonly group: string,
    readonly consumer: string,
  ) {
    this.stopped = new Promise<never>((_, reject) =>
      io.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
    );
    this.stopped.catch(() => undefined);
  }

  /**
   * A command's reply, or a rejection as soon as the source stops: a command queued while
   * Redis is unreachable must not hold the stop up (it is dropped when the client closes).
   */
  private guard<T>(p: Promise<T>): Promise<T> {
    p.catch(() => undefined);
    return Promise.race([p, this.stopped]);
  }

  get where(): string {
    return `stream '${this.o.stream}' group '${this.group}' at ${this.reader.shown}`;
  }

  /** Wakes the loop from its blocking read: CLIENT UNBLOCK from the command connection. */
  wake(): void {
    this.wakeRequested = true;
    this.freeRoom();
    if (this.blocking && this.readerId !== undefined) {
      this.cmd.client.client('UNBLOCK', this.readerId).catch(() => undefined);
    }
  }

  private freeRoom(): void {
    const w = this.roomWaiter;
    this.roomWaiter = undefined;
    w?.();
  }

  /** The free slots a read waits for when the pipeline is full: a read of one entry per round trip would be slow. */
  private get lowWater(): number {
    return Math.min(this.o.batch, Math.ceil(this.o.maxInFlight / 4));
  }

  /** Waits until at least `lowWater` events can be emitted, or the loop is woken. */
  private async worthReading(): Promise<void> {
    while (this.o.maxInFlight - this.io.inFlight < this.lowWater && !this.wakeRequested && !this.io.signal.aborted) {
      await new Promise<void>((resolve) => (this.roomWaiter = resolve));
    }
  }

  /** Acks are sent in batches: every id settled in the same tick goes in one XACK. */
  ack(id: string): void {
    if (this.roomWaiter && this.o.maxInFlight - this.io.inFlight >= this.lowWater) this.freeRoom();
    this.attempts.delete(id);
    this.ackBatch.push(id);
    if (this.ackBatch.length > 1) return;
    queueMicrotask(() => this.flushAcks());
  }

  private flushAcks(): void {
    const ids = this.ackBatch;
    this.ackBatch = [];
    if (ids.length === 0) return;
    const p = this.cmd.client
      .xack(this.o.stream, this.group, ...ids)
      .catch((err: unknown) => {
        if (!this.warnedClosed) {
          this.ctx.logger.warn(
            `node '${this.ctx.name}': XACK on ${this.where} failed: ${this.cmd.clean(errorMessage(err))}; ` +
              'the entries stay pending and are delivered again',
          );
        }
        this.warnedClosed = true;
      })
      .finally(() => {
        for (const id of ids) this.held.delete(id);
        this.acking.delete(p);
      });
    this.acking.add(p);
  }

  /** A nack: the entry stays pending; after the back-off it is claimed back and emitted again. */
  nack(id: string): void {
    if (this.roomWaiter && this.o.maxInFlight - this.io.inFlight >= this.lowWater) this.freeRoom();
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    const cap = this.o.claimIdle > 0 ? this.o.claimIdle : 60_000;
    const delay = this.o.nackDelay === 0 ? 0 : Math.min(cap, this.o.nackDelay * 2 ** Math.min(20, n - 1));
    const retry = () => {
      if (this.io.signal.aborted) return;
      this.retries.push(id);
      this.wake();
    };
    if (delay === 0) retry();
    else void sleep(this.ctx.scheduler, delay, this.io.signal).then(retry);
  }

  settle(id: string) {
    return (s: Settlement) => (s.acked ? this.ack(id) : this.nack(id));
  }

  /** An entry that cannot become an event is acked whatever happens to its error event: redelivery cannot fix it. */
  settleBad(id: string) {
    return (s: Settlement) => {
      if (!s.acked) {
        this.ctx.logger.warn(
          `node '${this.ctx.name}': entry ${id} of stream '${this.o.stream}' cannot be decoded and its error event was nacked; ` +
            'acked anyway (redelivery cannot fix it)',
        );
      }
      this.ack(id);
    };
  }

  /** Emits entries not already held; stops at an abort. */
  async emit(entries: StreamEntry[]): Promise<void> {
    for (const e of entries) {
      if (this.io.signal.aborted) return;
      if (this.held.has(e.id)) continue;
      this.held.add(e.id);
      if (e.fields === null) {
        // Deleted from the stream while pending: nothing to process, take it off the pending list.
        this.ack(e.id);
        continue;
      }
      const { data, rest } = splitFields(e.fields, this.o.field);
      const init = { headers: { ...rest, 'redis-stream': this.o.stream, 'redis-id': e.id } };
      if (data === undefined) {
        const cause = new Error(`entry ${e.id} of stream '${this.o.stream}' has no field '${this.o.field}'`);
        await this.io.emitError(rest, cause, init, this.settleBad(e.id));
        continue;
      }
      await emitMessage(
        this.io,
        data,
        this.o.codec,
        `entry ${e.id} of stream '${this.o.stream}'`,
        init,
        this.settle(e.id),
        this.settleBad(e.id),
      );
    }
  }

  private room(): number {
    return Math.max(1, Math.min(this.o.batch, this.o.maxInFlight - this.io.inFlight));
  }

  private get r(): Redis {
    return this.reader.client;
  }

  async ensureGroup(): Promise<void> {
    try {
      await this.guard(this.cmd.client.xgroup('CREATE', this.o.stream, this.group, this.o.start, 'MKSTREAM'));
    } catch (err) {
      if (!/BUSYGROUP/.test(errorMessage(err))) throw err;
    }
    this.needGroup = false;
  }

  /** This consumer's own pending entries (delivered before a restart or a lost reply), oldest first. */
  async readOwn(): Promise<void> {
    let after = '0';
    while (!this.io.signal.aborted) {
      const reply = await this.guard(
        this.r.callBuffer('XREADGROUP', 'GROUP', this.group, this.consumer, 'COUNT', this.room(), 'STREAMS', this.o.stream, after),
      );
      const entries = readReply(reply);
      if (entries.length === 0) break;
      after = entries[entries.length - 1].id;
      await this.emit(entries);
    }
    this.rereadOwn = false;
  }

  async retryNacked(): Promise<void> {
    const ids = this.retries.splice(0);
    for (const id of ids) this.held.delete(id);
    const reply = await this.guard(this.cmd.client.callBuffer('XCLAIM', this.o.stream, this.group, this.consumer, 0, ...ids));
    const entries = entriesOf(reply);
    const got = new Set(entries.map((e) => e.id));
    // Not pending any more (acked by a consumer that took it over, or deleted): nothing to retry.
    for (const id of ids) if (!got.has(id)) this.attempts.delete(id);
    await this.emit(entries);
  }

  /** Takes over entries idle longer than claimIdle from any consumer of the group (a dead one, typically). */
  async reclaim(): Promise<void> {
    this.claimDue = false;
    let cursor = '0-0';
    do {
      const reply = await this.guard(
        this.cmd.client.callBuffer('XAUTOCLAIM', this.o.stream, this.group, this.consumer, this.o.claimIdle, cursor, 'COUNT', this.room()),
      );
      const r = autoclaimReply(reply);
      cursor = r.cursor;
      // Our own entries still in flight come back too (their idle time passed): they are held, so skipped.
      await this.emit(r.entries);
    } while (cursor !== '0-0' && !this.io.signal.aborted);
  }

  async readNew(): Promise<void> {
    await this.worthReading();
    if (this.readerId === undefined) this.readerId = Number(await this.guard(this.r.client('ID')));
    if (this.wakeRequested) return;
    this.blocking = true;
    let reply: unknown;
    try {
      reply = await this.guard(
        this.r.callBuffer(
          'XREADGROUP',
          'GROUP',
          this.group,
          this.consumer,
          'COUNT',
          this.room(),
          'BLOCK',
          this.o.block,
          'STREAMS',
          this.o.stream,
          '>',
        ),
      );
    } finally {
      this.blocking = false;
    }
    await this.emit(readReply(reply));
  }

  async step(): Promise<void> {
    this.wakeRequested = false;
    if (this.needGroup) await this.ensureGroup();
    if (this.rereadOwn) await this.readOwn();
    if (this.retries.length) await this.retryNacked();
    if (this.claimDue) await this.reclaim();
    if (this.io.signal.aborted || this.retries.length || this.claimDue) return;
    await this.readNew();
  }
}

async function consume(ctx: NodeContext, o: Resolved, io: FlowIO): Promise<void> {
  const group = o.group ?? ctx.name;
  const generated = o.consumer === undefined;
  const consumer = o.consumer ?? generatedConsumer();
  let state: Reader | undefined;
  const again = () => {
    if (!state) return;
    state.readerId = undefined;
    state.rereadOwn = true;
    state.wake();
  };
  // The reader blocks in XREADGROUP; acks, claims and wake-ups go through the other connection.
  const reader = redisConnect(ctx, o, { role: 'reader', maxRetriesPerRequest: null, onReconnect: again });
  const cmd = redisConnect(ctx, o, { role: 'acks', maxRetriesPerRequest: null, onReconnect: again });
  const s = (state = new Reader(ctx, o, io, reader, cmd, group, consumer));
  const onAbort = () => s.wake();
  io.signal.addEventListener('abort', onAbort, { once: true });
  let claimTimer: { unsubscribe(): void } | undefined;
  if (o.claimIdle > 0) {
    const every = Math.max(50, Math.floor(o.claimIdle / 2));
    s.claimDue = true; // a dead consumer's entries may be waiting already
    const tick = () => {
      s.claimDue = true;
      s.wake();
      claimTimer = ctx.scheduler.schedule(tick, every);
    };
    claimTimer = ctx.scheduler.schedule(tick, every);
  }
  try {
    for (let attempt = 0; !io.signal.aborted;) {
      try {
        await s.step();
        attempt = 0;
      } catch (err) {
        if (io.signal.aborted) break;
        const message = errorMessage(err);
        // An UNBLOCK answers the blocked read with nil (no error); other errors are real.
        if (/NOGROUP/.test(message)) s.needGroup = true;
        s.rereadOwn = true;
        s.readerId = undefined;
        const wait = backoffDelay(attempt++, { initial: 250, max: 10_000 });
        ctx.logger.error(`node '${ctx.name}': ${s.where}: ${reader.clean(message)}; retrying in ${wait}ms`);
        await sleep(ctx.scheduler, wait, io.signal);
      }
    }
    claimTimer?.unsubscribe();
    // Let in-flight events settle so their acks reach Redis before the connections close.
    await within(ctx.scheduler, io.settled(), o.closeTimeout);
    // Acks queued while Redis is unreachable cannot go out: those entries stay pending (delivered again).
    if (s.acking.size && cmd.client.status === 'ready') await within(ctx.scheduler, Promise.all([...s.acking]), 5000);
    if (io.inFlight > 0) {
      ctx.logger.warn(
        `node '${ctx.name}': closing ${s.where} with ${io.inFlight} events unsettled; they stay pending for consumer ` +
          `'${consumer}' (read again when it restarts, or taken over by the group after claimIdle)`,
      );
    } else if (generated && cmd.client.status === 'ready') {
      // A generated name is never used again: remove the consumer from the group, but only with nothing pending.
      await within(ctx.scheduler, dropConsumerIfIdle(cmd.client, o.stream, group, consumer), 2000);
    }
  } finally {
    claimTimer?.unsubscribe();
    io.signal.removeEventListener('abort', onAbort);
    s.warnedClosed = true;
    // Nothing to flush on the reader; a read still blocked there would only hold QUIT up.
    reader.client.disconnect();
    await closeRedis(ctx, cmd.client, 5000);
  }
}

async function dropConsumerIfIdle(client: Redis, stream: string, group: string, consumer: string): Promise<void> {
  try {
    const pending = (await client.call('XPENDING', stream, group, '-', '+', 1, consumer)) as unknown[];
    if (pending.length === 0) await client.xgroup('DELCONSUMER', stream, group, consumer);
  } catch {
    /* best effort: an idle consumer left in the group is harmless */
  }
}

/**
 * Source reading a Redis stream through a consumer group (created with `MKSTREAM` if missing,
 * starting at `start`). Entries come from `XREADGROUP … BLOCK`; each is `XACK`ed only once
 * its event was settled downstream, and at most `maxInFlight` events are open. A nacked entry
 * stays pending: after `nackDelay` (doubling per retry, capped at `claimIdle`) it is claimed
 * back with `XCLAIM` and emitted again. Entries pending longer than `claimIdle` with any
 * consumer — one that died, typically — are taken over with `XAUTOCLAIM`. At start and after
 * a reconnect the consumer first reads its own pending entries again, so restarting with the
 * same `consumer` name resumes at once. The payload is the `field` field decoded with `codec`;
 * other fields become headers, with `redis-stream` and `redis-id`. An entry that has no such
 * field or fails to decode becomes an error event naming stream and id (acked even if that
 * event is nacked: redelivery cannot fix it).
 *
 * @example
 * ```ts
 * net.add('bets', connectors.redisStreamSource({ stream: 'bets', group: 'scoring', consumer: 'worker-1', maxInFlight: 500 }));
 * ```
 */
export const redisStreamSource = defineNode({
  name: 'redis_stream_source',
  io: 'network',
  role: 'source',
  summary: 'Reads a Redis stream through a consumer group: XACK after settlement, nacked entries retried, dead consumers taken over.',
  options: redisStreamSourceOptions,
  positional: ['stream', 'group'],
  example: "net.add('bets', connectors.redisStreamSource({ stream: 'bets', group: 'scoring' }));",
  luaExample: 'tb.create_redis_stream_source("bets", { stream = "bets", group = "scoring", consumer = "worker-1" })',
  build: (o) => {
    for (const k of ['stream', 'group', 'consumer', 'field'] as const) {
      if (o[k] !== undefined && o[k].trim() === '')
        throw new TributaryError('BAD_OPTION', `node kind 'redis_stream_source': option '${k}' must not be empty`);
    }
    if (!/^(\$|\d+(-\d+)?)$/.test(o.start)) {
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'redis_stream_source': option 'start' must be "0", "$" or an entry id like "1700000000000-0", not ${JSON.stringify(o.start)}`,
      );
    }
    return {
      role: 'source',
      kind: 'redis_stream_source',
      create: (ctx) => flowSource(ctx, o.maxInFlight, (io) => consume(ctx, o, io)),
    };
  },
});
