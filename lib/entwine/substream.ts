import { createPublicKey, type KeyObject } from 'node:crypto';
import type { KeyValueStore } from '../state/types';
import { payloadBytes, sha256Hex, signEntry, ZERO_DIGEST, type ChainEntry } from './encoding';
import { publicKeyPem } from './keys';
import { checkSubstreamId, readReceipts, substreamKeys, type AnchorReceipt, type ChainHead, type StoredObject } from './store';
import { postAnchor, type AnchorProof, type TickInfo } from './ticker-client';

/** Options of {@link SubstreamWriter.open}. */
export interface SubstreamWriterOptions {
  /** The store (see `openEntwineStore`); the writer does not close it. */
  store: KeyValueStore;
  /** The substream's id. */
  substream: string;
  /** The Ed25519 key every entry is signed with. */
  privateKey: KeyObject;
  /** Most entries one anchor proof carries (default 1000); a longer backlog goes in several proofs. */
  maxProofEntries?: number;
}

/**
 * Appends signed, hash-chained entries to one substream and anchors them to a ticker. Opening
 * reads the head, so a restarted writer continues the chain. Appends are serialized; a second
 * writer on the same substream makes the loser's append fail (the head is compare-and-set).
 *
 * @example
 * ```ts
 * const w = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey });
 * const entry = await w.append({ story: 'x' }, Date.now());
 * const receipt = await w.anchor('http://127.0.0.1:8081'); // entries 0..entry.index, landed in receipt.tick
 * ```
 */
export class SubstreamWriter {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly keys;
  private readonly publicKey: string;

  private constructor(
    private readonly store: KeyValueStore,
    readonly substream: string,
    private readonly privateKey: KeyObject,
    private head: (ChainHead & { version: number }) | undefined,
    /** The latest tick known: what the next entry records as its lower bound. */
    private known: { tick: number; digest: string },
    /** The last index anchored (-1: none). */
    private anchoredTo: number,
    private readonly maxProofEntries: number,
  ) {
    this.keys = substreamKeys(substream);
    this.publicKey = publicKeyPem(createPublicKey(privateKey));
  }

  /**
   * Opens the writer: reads the head, the latest tick the chain knew and the last anchor.
   *
   * @example
   * ```ts
   * const w = await SubstreamWriter.open({ store: kv, substream: 'A', privateKey });
   * w.length; // entries already in the chain
   * ```
   */
  static async open(options: SubstreamWriterOptions): Promise<SubstreamWriter> {
    const id = checkSubstreamId(options.substream, 'entwine');
    const keys = substreamKeys(id);
    const pem = publicKeyPem(createPublicKey(options.privateKey));
    const stored = await options.store.get<string>(keys.publicKey);
    if (!stored) await options.store.compareAndSet(keys.publicKey, 0, pem);
    else if (stored.value !== pem) throw new Error(`substream '${id}' is signed with another key than the one given`);
    const head = await options.store.get<ChainHead>(keys.head);
    let known = { tick: -1, digest: ZERO_DIGEST };
    if (head) {
      const last = await options.store.get<ChainEntry>(keys.entry(head.value.index));
      if (last) known = { tick: last.value.tick, digest: last.value.tickDigest };
    }
    const receipts = await readReceipts(options.store, id);
    const lastReceipt = receipts[receipts.length - 1];
    if (lastReceipt && lastReceipt.tick > known.tick) known = { tick: lastReceipt.tick, digest: lastReceipt.tickDigest };
    return new SubstreamWriter(
      options.store,
      id,
      options.privateKey,
      head ? { ...head.value, version: head.version } : undefined,
      known,
      lastReceipt ? lastReceipt.to : -1,
      options.maxProofEntries ?? 1000,
    );
  }

  /** How many entries the chain holds. */
  get length(): number {
    return this.head ? this.head.index + 1 : 0;
  }

  /** The latest tick this substream knows (its next entry's lower bound). */
  get knownTick(): { tick: number; digest: string } {
    return { ...this.known };
  }

  /** Entries written but not yet anchored. */
  get unanchored(): number {
    return this.length - 1 - this.anchoredTo;
  }

  /**
   * Tells the writer of a newer tick (from the ticker's head); entries written after record it.
   *
   * @example
   * ```ts
   * w.learnTick(await fetchHead('http://127.0.0.1:8081'));
   * ```
   */
  learnTick(t: TickInfo): void {
    if (t.index > this.known.tick) this.known = { tick: t.index, digest: t.digest };
  }

  /**
   * Stores the payload and appends its entry, in one atomic write; resolves with the entry once
   * the store has it.
   *
   * @example
   * ```ts
   * const e = await w.append({ id: 7 }, scheduler.now());
   * ```
   */
  append(payload: unknown, timestamp: number): Promise<ChainEntry> {
    return this.serial(() => this.doAppend(payload, timestamp));
  }

  private async doAppend(payload: unknown, timestamp: number): Promise<ChainEntry> {
    const bytes = payloadBytes(payload);
    const payloadDigest = sha256Hex(bytes);
    const index = this.length;
    const entry = signEntry(
      {
        substream: this.substream,
        index,
        timestamp: Math.max(0, Math.floor(timestamp)),
        prev: this.head?.digest ?? ZERO_DIGEST,
        payloadDigest,
        tick: this.known.tick,
        tickDigest: this.known.digest,
      },
      this.privateKey,
    );
    const object: StoredObject = { data: bytes.toString('base64'), json: !(payload instanceof Uint8Array) };
    const newHead: ChainHead = { index, digest: entry.digest };
    const ok = await this.store.batch([
      { op: 'check', key: this.keys.head, version: this.head?.version ?? 0 },
      { op: 'put', key: this.keys.object(payloadDigest), value: object },
      { op: 'put', key: this.keys.entry(index), value: entry },
      { op: 'put', key: this.keys.head, value: newHead },
    ]);
    if (!ok) {
      const now = await this.store.get<ChainHead>(this.keys.head);
      if (now) this.head = { ...now.value, version: now.version };
      throw new Error(
        `substream '${this.substream}': another writer appended to it (head moved to ${now?.value.index ?? 'nothing'}); not written`,
      );
    }
    this.head = { ...newHead, version: (this.head?.version ?? 0) + 1 };
    return entry;
  }

  /**
   * Sends the entries not yet anchored (at most `maxProofEntries`) to the ticker as a proof, waits for the tick the anchor
   * lands in, records the receipt and learns the tick. Resolves with undefined when there is
   * nothing to anchor. A rejected proof rejects with the ticker's reason. `token`: the ticker's
   * bearer token, when it asks for one.
   *
   * @example
   * ```ts
   * const r = await w.anchor('http://127.0.0.1:8081'); // { from, to, tick, … }
   * ```
   */
  anchor(tickerUrl: string, options: { signal?: AbortSignal; token?: string } = {}): Promise<AnchorReceipt | undefined> {
    return this.serial(async () => {
      const from = this.anchoredTo + 1;
      const to = Math.min(this.length - 1, from + this.maxProofEntries - 1);
      if (to < from) return undefined;
      const entries: ChainEntry[] = [];
      for (let i = from; i <= to; i++) {
        const e = await this.store.get<ChainEntry>(this.keys.entry(i));
        if (!e) throw new Error(`substream '${this.substream}': entry ${i} is missing from the store`);
        entries.push(e.value);
      }
      return { from, to, entries };
    }).then(async (batch) => {
      if (!batch) return undefined;
      const proof: AnchorProof = { substream: this.substream, publicKey: this.publicKey, entries: batch.entries };
      const answer = await postAnchor(tickerUrl, proof, options.signal, options.token);
      const receipt: AnchorReceipt = {
        substream: this.substream,
        from: batch.from,
        to: batch.to,
        lastDigest: batch.entries[batch.entries.length - 1].digest,
        tick: answer.tick.index,
        tickDigest: answer.tick.digest,
        tickTime: answer.tick.time,
      };
      await this.serial(async () => {
        await this.store.put(this.keys.anchor(receipt.to), receipt);
        this.anchoredTo = Math.max(this.anchoredTo, receipt.to);
        this.learnTick(answer.tick);
      });
      return receipt;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
