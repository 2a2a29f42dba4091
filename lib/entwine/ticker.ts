// The ticker: a hash chain of ticks made on its own interval, and the anchors substreams make into
// it. Keys in its store (docs/entwine.md):
//   ticker:tick:<index, 12 digits>            a tick
//   ticker:head                               the last tick's index
//   ticker:sub:<id>                           { publicKey, next, lastDigest } of an anchored substream
//   ticker:anchor:<id>:<from, 12 digits>      { from, to, lastDigest, tick, ticks } of one anchor
import { randomBytes } from 'node:crypto';
import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import type { KeyValueStore } from '../state/types';
import { sha256Hex, ZERO_DIGEST, type ChainEntry } from './encoding';
import { parsePublicKey, publicKeyPem } from './keys';
import { SUBSTREAM_ID } from './store';
import type { AnchorAnswer, AnchorProof, TickInfo } from './ticker-client';
import { checkEntry } from './verify';

/** A stored tick: the digest covers index, time, the previous digest and a random nonce. */
export interface Tick extends TickInfo {
  prev: string;
  /** 16 random bytes, hex: what makes a tick's digest unknowable before the tick is made. */
  nonce: string;
}

interface SubstreamRecord {
  publicKey: string;
  /** The index the next proof must start at. */
  next: number;
  /** Digest of the last anchored entry. */
  lastDigest: string;
}

interface AnchorRecord {
  from: number;
  to: number;
  lastDigest: string;
  /** The tick the anchor landed in. */
  tick: number;
  /** Each entry's lower-bound tick, from `from` to `to`. */
  ticks: number[];
}

/** A rejected request: the HTTP layer answers with `status` and the message. */
export class TickerRequestError extends Error {
  override readonly name = 'TickerRequestError';
  constructor(
    readonly status: 400 | 404 | 409 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** A message of a substream, as happened-before questions name it. */
export interface MessageRef {
  substream: string;
  index: number;
}

/** The answer to a happened-before question, with the bounds it was decided on. */
export interface HappenedBeforeAnswer {
  /** `before`: a happened before b; `after`: b before a; `concurrent`: the ticks do not order them. */
  result: 'before' | 'after' | 'concurrent';
  a: MessageRef & { after: number; before: number };
  b: MessageRef & { after: number; before: number };
}

/** Options of {@link Ticker.open}. */
export interface TickerOptions {
  /** Where ticks, substreams and anchors are kept. */
  store: KeyValueStore;
  /** Milliseconds between ticks. */
  interval: number;
  /** Where time comes from (default `asyncScheduler`); a virtual one in specs. */
  scheduler?: SchedulerLike;
  /** Most entries one proof may carry (default 10 000). */
  maxEntries?: number;
  /** Told when a timed tick fails (its store write failed); the next interval tries again. Default: nothing. */
  onError?: (message: string) => void;
}

const pad = (n: number) => String(n).padStart(12, '0');
const tickDigest = (index: number, time: number, prev: string, nonce: string) => {
  const b = Buffer.alloc(16);
  b.writeBigInt64BE(BigInt(index));
  b.writeBigInt64BE(BigInt(Math.floor(time)), 8);
  return sha256Hex(Buffer.from('TBTICK01', 'ascii'), b, Buffer.from(prev, 'hex'), Buffer.from(nonce, 'hex'));
};

/**
 * The ticker service's core (the HTTP front is `serveTicker`): makes a tick every `interval` on
 * its scheduler, verifies anchor proofs (links, signatures, continuity with the substream's
 * previous proof, honest tick references), records the tick each anchor lands in and answers
 * happened-before questions. Restart continues the tick chain from the store.
 *
 * @example
 * ```ts
 * const ticker = await Ticker.open({ store: await openEntwineStore('./ticker'), interval: 1000 });
 * ticker.start();
 * const answer = await ticker.anchor(proof);     // resolves once the landing tick is made
 * await ticker.happenedBefore({ substream: 'A', index: 2 }, { substream: 'B', index: 3 });
 * await ticker.stop();
 * ```
 */
export class Ticker {
  private timer: Subscription | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private waiters = new Map<number, { resolve: (t: Tick) => void; reject: (e: Error) => void }[]>();
  private stopped = false;
  /**
   * Per substream, the `[from, to]` spans of its anchor records as far as read, in order:
   * records are written once and never change, so a lookup is a binary search plus one read;
   * an index past what is known reads the store again (another ticker on the same store may
   * have anchored it).
   */
  private readonly spans = new Map<string, { from: number[]; to: number[] }>();
  private readonly scheduler: SchedulerLike;
  private readonly maxEntries: number;
  private readonly onError: (message: string) => void;

  private constructor(
    private readonly store: KeyValueStore,
    private readonly interval: number,
    private head: Tick,
    options: TickerOptions,
  ) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.onError = options.onError ?? (() => undefined);
  }

  /**
   * Opens the ticker on its store: reads the head tick, or makes the genesis tick 0.
   *
   * @example
   * ```ts
   * const t = await Ticker.open({ store: kv, interval: 1000, scheduler });
   * t.headTick.index; // 0 on a new store
   * ```
   */
  static async open(options: TickerOptions): Promise<Ticker> {
    if (!Number.isFinite(options.interval) || options.interval <= 0) throw new Error('ticker: the interval must be a positive duration');
    const scheduler = options.scheduler ?? asyncScheduler;
    const at = await options.store.get<number>('ticker:head');
    let head: Tick;
    if (at) {
      const t = await options.store.get<Tick>(`ticker:tick:${pad(at.value)}`);
      if (!t) throw new Error(`ticker: the store's head names tick ${at.value}, which is missing`);
      head = t.value;
    } else {
      head = makeTick(0, scheduler.now(), ZERO_DIGEST);
      await options.store.batch([
        { op: 'put', key: `ticker:tick:${pad(0)}`, value: head },
        { op: 'put', key: 'ticker:head', value: 0 },
      ]);
    }
    return new Ticker(options.store, options.interval, head, options);
  }

  /** How many accepted anchors wait for the tick they land in. */
  get waiting(): number {
    let n = 0;
    for (const list of this.waiters.values()) n += list.length;
    return n;
  }

  /** The latest tick. */
  get headTick(): TickInfo {
    return { index: this.head.index, time: this.head.time, digest: this.head.digest };
  }

  /**
   * Starts ticking every interval on the scheduler.
   *
   * @example
   * ```ts
   * ticker.start();
   * ```
   */
  start(): void {
    if (this.timer || this.stopped) return;
    const interval = this.interval;
    this.timer = this.scheduler.schedule(
      function (this: { schedule(state?: unknown, delay?: number): unknown }, self?: Ticker) {
        void self!.tick().catch((e: unknown) => self!.onError(`tick failed: ${(e as Error).message}`));
        this.schedule(self, interval);
      },
      interval,
      this,
    );
  }

  /**
   * Stops ticking; anchors still waiting for their tick are rejected (503).
   *
   * @example
   * ```ts
   * await ticker.stop();
   * ```
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    for (const list of this.waiters.values()) for (const w of list) w.reject(new TickerRequestError(503, 'the ticker is stopping'));
    this.waiters.clear();
  }

  /**
   * Makes the next tick now (the timer calls this) and stores it; resolves with it.
   *
   * @example
   * ```ts
   * const t = await ticker.tick(); // t.index === previous head + 1
   * ```
   */
  tick(): Promise<Tick> {
    return this.serial(async () => {
      const next = makeTick(this.head.index + 1, this.scheduler.now(), this.head.digest);
      await this.store.batch([
        { op: 'put', key: `ticker:tick:${pad(next.index)}`, value: next },
        { op: 'put', key: 'ticker:head', value: next.index },
      ]);
      this.head = next;
      const list = this.waiters.get(next.index);
      this.waiters.delete(next.index);
      for (const w of list ?? []) w.resolve(next);
      return next;
    });
  }

  /**
   * A stored tick by index; undefined when there is none.
   *
   * @example
   * ```ts
   * await ticker.getTick(3);
   * ```
   */
  async getTick(index: number): Promise<Tick | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index > this.head.index) return undefined;
    return (await this.store.get<Tick>(`ticker:tick:${pad(index)}`))?.value;
  }

  /**
   * Verifies an anchor proof and records it in the next tick; resolves when that tick is made.
   * A bad proof rejects with a {@link TickerRequestError} (400) saying what is wrong: a bad
   * signature, a broken link, a proof that does not continue the substream's previous one (a
   * fork or a rewrite), a reference to a tick that does not exist or has another digest.
   *
   * @example
   * ```ts
   * const { tick } = await ticker.anchor({ substream: 'A', publicKey, entries });
   * ```
   */
  async anchor(proof: AnchorProof): Promise<AnchorAnswer> {
    const landed = await this.serial(() => this.accept(proof));
    const tick = await new Promise<Tick>((resolve, reject) => {
      if (this.head.index >= landed.tick) {
        void this.getTick(landed.tick).then((t) => (t ? resolve(t) : reject(new Error(`tick ${landed.tick} missing`))), reject);
        return;
      }
      if (this.stopped) return reject(new TickerRequestError(503, 'the ticker is stopping'));
      const list = this.waiters.get(landed.tick) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(landed.tick, list);
    });
    return {
      substream: proof.substream,
      from: landed.from,
      to: landed.to,
      tick: { index: tick.index, time: tick.time, digest: tick.digest },
    };
  }

  private async accept(proof: AnchorProof): Promise<AnchorRecord> {
    const bad = (m: string) => new TickerRequestError(400, m);
    if (typeof proof !== 'object' || proof === null) throw bad('the body must be a JSON object { substream, publicKey, entries }');
    const { substream, entries } = proof;
    if (typeof substream !== 'string' || !SUBSTREAM_ID.test(substream)) throw bad('substream: must be 1 to 128 of A-Z a-z 0-9 . _ -');
    let key;
    try {
      key = parsePublicKey(proof.publicKey);
    } catch (e) {
      throw bad((e as Error).message);
    }
    if (!Array.isArray(entries) || entries.length === 0) throw bad('entries: must be a non-empty array');
    if (entries.length > this.maxEntries) throw bad(`entries: at most ${this.maxEntries} per proof`);
    const recKey = `ticker:sub:${substream}`;
    const rec = await this.store.get<SubstreamRecord>(recKey);
    const pem = publicKeyPem(key);
    if (rec && rec.value.publicKey !== pem) throw bad(`publicKey: differs from the key substream '${substream}' first anchored with`);
    const next = rec?.value.next ?? 0;
    let prev = rec?.value.lastDigest ?? ZERO_DIGEST;
    const first = entries[0] as Partial<ChainEntry> | null;
    if (first?.index !== next) {
      throw bad(`entries[0]: index ${String(first?.index)} does not continue substream '${substream}' (the next index is ${next})`);
    }
    if (first.prev !== prev) {
      throw bad(`entries[0]: prev digest does not match the last anchored entry ${next - 1} of '${substream}' (a fork or a rewrite)`);
    }
    let lastTick = -1;
    const ticks: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      const problem = checkEntry(e, next + i, prev, substream, key);
      if (problem) throw bad(`entries[${i}]: ${problem.broken}: ${problem.reason}`);
      if (!Number.isSafeInteger(e.tick) || e.tick < lastTick) throw bad(`entries[${i}]: tick goes back (${e.tick} after ${lastTick})`);
      if (e.tick !== lastTick && e.tick >= 0) {
        const t = await this.getTick(e.tick);
        if (!t || t.digest !== e.tickDigest) throw bad(`entries[${i}]: tick ${e.tick} with that digest was never made by this ticker`);
      } else if (e.tick === -1 && e.tickDigest !== ZERO_DIGEST) {
        throw bad(`entries[${i}]: tick -1 must have the zero digest`);
      }
      lastTick = e.tick;
      ticks.push(e.tick);
      prev = e.digest;
    }
    const record: AnchorRecord = { from: next, to: next + entries.length - 1, lastDigest: prev, tick: this.head.index + 1, ticks };
    const ok = await this.store.batch([
      { op: 'check', key: recKey, version: rec?.version ?? 0 },
      { op: 'put', key: recKey, value: { publicKey: pem, next: record.to + 1, lastDigest: prev } satisfies SubstreamRecord },
      { op: 'put', key: `ticker:anchor:${substream}:${pad(record.from)}`, value: record },
    ]);
    if (!ok) throw new TickerRequestError(409, `substream '${substream}' was anchored concurrently; send the proof again`);
    const known = this.spans.get(substream);
    if (known !== undefined && (known.to.length === 0 ? -1 : known.to[known.to.length - 1]) === record.from - 1) {
      known.from.push(record.from);
      known.to.push(record.to);
    }
    return record;
  }

  /**
   * Where a message sits between ticks: it was written after tick `after` (the tick its entry
   * names) and anchored before tick `before` (the tick its anchor landed in). A message not yet
   * anchored is a 404.
   *
   * @example
   * ```ts
   * await ticker.bounds({ substream: 'A', index: 2 }); // { after: 1, before: 3 }
   * ```
   */
  async bounds(m: MessageRef): Promise<{ after: number; before: number }> {
    if (typeof m.substream !== 'string' || !SUBSTREAM_ID.test(m.substream)) throw new TickerRequestError(400, 'bad substream id');
    if (!Number.isSafeInteger(m.index) || m.index < 0) throw new TickerRequestError(400, `bad index ${String(m.index)}`);
    let known = this.spans.get(m.substream);
    if (known === undefined || m.index > known.to[known.to.length - 1]) {
      known = { from: [], to: [] };
      for await (const [, v] of this.store.list<AnchorRecord>(`ticker:anchor:${m.substream}:`)) {
        known.from.push(v.value.from);
        known.to.push(v.value.to);
      }
      this.spans.set(m.substream, known);
    }
    // The last span starting at or before the index (spans are consecutive and sorted).
    let lo = 0;
    let hi = known.from.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (known.from[mid] <= m.index) lo = mid;
      else hi = mid - 1;
    }
    if (known.from.length > 0 && known.from[lo] <= m.index && m.index <= known.to[lo]) {
      const r = (await this.store.get<AnchorRecord>(`ticker:anchor:${m.substream}:${pad(known.from[lo])}`))?.value;
      if (r !== undefined) return { after: r.ticks[m.index - r.from], before: r.tick };
    }
    throw new TickerRequestError(404, `message ${m.substream}:${m.index} has not been anchored`);
  }

  /**
   * Answers whether message `a` happened before message `b`: yes when `a` was anchored in a tick
   * no later than the tick `b`'s entry names (a existed before that tick, b was written after
   * it); in the same substream, by index. Otherwise `after` (the converse) or `concurrent`.
   *
   * @example
   * ```ts
   * (await ticker.happenedBefore({ substream: 'A', index: 2 }, { substream: 'B', index: 2 })).result; // 'before'
   * ```
   */
  async happenedBefore(a: MessageRef, b: MessageRef): Promise<HappenedBeforeAnswer> {
    const ba = await this.bounds(a);
    const bb = await this.bounds(b);
    let result: HappenedBeforeAnswer['result'];
    if (a.substream === b.substream) result = a.index < b.index ? 'before' : a.index > b.index ? 'after' : 'concurrent';
    else if (ba.before <= bb.after) result = 'before';
    else if (bb.before <= ba.after) result = 'after';
    else result = 'concurrent';
    return { result, a: { ...a, ...ba }, b: { ...b, ...bb } };
  }

  /**
   * What the ticker knows of a substream: the next index it expects, the last anchored digest and its anchors.
   *
   * @example
   * ```ts
   * await ticker.substream('A'); // { next: 6, lastDigest, anchors: [{ from: 0, to: 2, tick: 3 }, …] }
   * ```
   */
  async substream(id: string): Promise<{ next: number; lastDigest: string; anchors: { from: number; to: number; tick: number }[] }> {
    const rec = await this.store.get<SubstreamRecord>(`ticker:sub:${id}`);
    if (!rec) throw new TickerRequestError(404, `substream '${id}' has never anchored`);
    const anchors: { from: number; to: number; tick: number }[] = [];
    for await (const [, v] of this.store.list<AnchorRecord>(`ticker:anchor:${id}:`))
      anchors.push({ from: v.value.from, to: v.value.to, tick: v.value.tick });
    return { next: rec.value.next, lastDigest: rec.value.lastDigest, anchors };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function makeTick(index: number, time: number, prev: string): Tick {
  const nonce = randomBytes(16).toString('hex');
  return { index, time: Math.floor(time), prev, nonce, digest: tickDigest(index, time, prev, nonce) };
}
