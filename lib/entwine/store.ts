// Where a substream lives: a key-value store (lib/state) opened from a directory or a URL.
// Keys (documented in docs/entwine.md):
//   entwine:<id>:entry:<index, 12 digits>   the chain entry (JSON)
//   entwine:<id>:object:<payload digest>    the payload bytes (base64)
//   entwine:<id>:head                       { index, digest } of the last entry
//   entwine:<id>:key                        the writer's public key (SPKI PEM)
//   entwine:<id>:anchor:<to, 12 digits>     the ticker's receipt for the entries up to `to`
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { TributaryError } from '../errors';
import { openStateStore } from '../state/open';
import type { KeyValueStore } from '../state/types';
import type { ChainEntry } from './encoding';

/** What a substream id may be: letters, digits, `.`, `_`, `-`, 1 to 128 of them. */
export const SUBSTREAM_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The ticker's answer to an anchor, as a substream records it. */
export interface AnchorReceipt {
  substream: string;
  /** First and last index of the entries the proof covered. */
  from: number;
  to: number;
  /** Digest of the entry at `to`. */
  lastDigest: string;
  /** The tick the anchor landed in: the entries existed before it was made. */
  tick: number;
  tickDigest: string;
  /** The tick's time (ms since the epoch, on the ticker's clock). */
  tickTime: number;
}

/** Head of a substream: the last entry's index and digest. */
export interface ChainHead {
  index: number;
  digest: string;
}

/**
 * Checks a substream id; throws naming `what` when it is not 1 to 128 of `[A-Za-z0-9._-]`.
 *
 * @example
 * ```ts
 * checkSubstreamId('orders-eu', "entwine 'chain': option 'substream'");
 * ```
 */
export function checkSubstreamId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !SUBSTREAM_ID.test(id)) {
    throw new TributaryError('BAD_OPTION', `${what}: substream id must be 1 to 128 of A-Z a-z 0-9 . _ - (got ${JSON.stringify(id)})`);
  }
  return id;
}

/**
 * Opens the store a substream or a ticker keeps its data in: a URL of lib/state (`memory:`,
 * `sqlite:./chain.db`, `mysql://…`, `postgres://…`, `redis://…`), or a directory, which gets
 * an SQLite file `entwine.db` in it (created with the directory).
 *
 * @example
 * ```ts
 * const kv = await openEntwineStore('./chains');            // ./chains/entwine.db
 * const kv2 = await openEntwineStore('postgres://postgres@127.0.0.1/test');
 * ```
 */
export async function openEntwineStore(location: string): Promise<KeyValueStore> {
  if (typeof location !== 'string' || location.trim() === '') {
    throw new TributaryError('BAD_OPTION', 'entwine store: a directory or a state store URL is required');
  }
  if (/^(memory:|sqlite:|mysql:|mariadb:|postgres(ql)?:|rediss?:)/i.test(location)) return openStateStore(location);
  try {
    mkdirSync(location, { recursive: true });
  } catch (e) {
    throw new TributaryError('BAD_OPTION', `entwine store: cannot create directory ${location}: ${(e as Error).message}`);
  }
  return openStateStore(`sqlite:${join(location, 'entwine.db')}`);
}

const pad = (n: number) => String(n).padStart(12, '0');

/**
 * The keys of one substream in a store.
 *
 * @example
 * ```ts
 * substreamKeys('A').entry(3); // 'entwine:A:entry:000000000003'
 * ```
 */
export function substreamKeys(id: string) {
  const base = `entwine:${id}:`;
  return {
    entryPrefix: `${base}entry:`,
    entry: (index: number) => `${base}entry:${pad(index)}`,
    object: (digest: string) => `${base}object:${digest}`,
    head: `${base}head`,
    publicKey: `${base}key`,
    anchorPrefix: `${base}anchor:`,
    anchor: (to: number) => `${base}anchor:${pad(to)}`,
  };
}

/** A stored payload: its bytes, base64, and whether they are JSON text. */
export interface StoredObject {
  data: string;
  json: boolean;
}

/**
 * Every substream id found in a store.
 *
 * @example
 * ```ts
 * await listSubstreams(kv); // ['A', 'B']
 * ```
 */
export async function listSubstreams(kv: KeyValueStore): Promise<string[]> {
  const ids = new Set<string>();
  for await (const [key] of kv.list('entwine:')) {
    const m = /^entwine:([^:]+):head$/.exec(key);
    if (m) ids.add(m[1]);
  }
  return [...ids].sort();
}

/**
 * The anchor receipts of a substream, in chain order.
 *
 * @example
 * ```ts
 * for (const r of await readReceipts(kv, 'A')) console.log(r.from, r.to, r.tick);
 * ```
 */
export async function readReceipts(kv: KeyValueStore, id: string): Promise<AnchorReceipt[]> {
  const out: AnchorReceipt[] = [];
  for await (const [, v] of kv.list<AnchorReceipt>(substreamKeys(id).anchorPrefix)) out.push(v.value);
  return out;
}

/**
 * The entries of a substream in key order, each with the key it was stored under.
 *
 * @example
 * ```ts
 * for await (const { key, entry } of readEntries(kv, 'A')) console.log(key, entry.index);
 * ```
 */
export async function* readEntries(kv: KeyValueStore, id: string): AsyncIterable<{ key: string; entry: ChainEntry }> {
  for await (const [key, v] of kv.list<ChainEntry>(substreamKeys(id).entryPrefix)) yield { key, entry: v.value };
}
