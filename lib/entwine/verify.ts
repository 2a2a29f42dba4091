import type { KeyObject } from 'node:crypto';
import type { KeyValueStore } from '../state/types';
import { parsePublicKey } from './keys';
import { entryDigest, sha256Hex, verifySignature, ZERO_DIGEST, type ChainEntry } from './encoding';
import { readEntries, readReceipts, substreamKeys, type ChainHead, type StoredObject } from './store';

/** What kind of link is broken. */
export type BrokenLink =
  /** The stored payload's SHA-256 is not the entry's payload digest (or the payload is gone). */
  | 'payload'
  /** An entry out of place: its index or its prev digest does not follow the one before (reordered, missing, inserted). */
  | 'order'
  /** The signature does not verify with the public key. */
  | 'signature'
  /** The entry's own digest does not match its fields and signature, or it names another substream. */
  | 'entry'
  /** The head or an anchor receipt disagrees with the entries (truncated or rewritten after anchoring). */
  | 'head';

/** The result of {@link verifySubstream}. */
export type VerifyResult =
  | { ok: true; substream: string; entries: number; anchors: number }
  | { ok: false; substream: string; entries: number; index: number; broken: BrokenLink; reason: string };

/**
 * Walks a substream from its first entry and reports the first broken link: a modified payload,
 * a reordered or missing entry, a bad signature, an entry digest that does not match, a head or
 * anchor receipt that disagrees. Signatures are checked with `publicKey`, else with the key the
 * writer recorded in the store (which only someone able to rewrite the store could replace: give
 * the key you trust to check who signed).
 *
 * @example
 * ```ts
 * const r = await verifySubstream(kv, 'A', { publicKey });
 * if (!r.ok) console.error(`entry ${r.index}: ${r.reason}`);
 * ```
 */
export async function verifySubstream(
  kv: KeyValueStore,
  substream: string,
  options: { publicKey?: KeyObject } = {},
): Promise<VerifyResult> {
  const keys = substreamKeys(substream);
  let publicKey = options.publicKey;
  if (!publicKey) {
    const stored = await kv.get<string>(keys.publicKey);
    if (stored) publicKey = parsePublicKey(stored.value);
  }
  let expected = 0;
  let prev = ZERO_DIGEST;
  const digests: string[] = [];
  const fail = (index: number, broken: BrokenLink, reason: string): VerifyResult => ({
    ok: false,
    substream,
    entries: expected,
    index,
    broken,
    reason,
  });
  for await (const { key, entry } of readEntries(kv, substream)) {
    const problem = checkEntry(entry, expected, prev, substream, publicKey);
    if (problem) return fail(expected, problem.broken, problem.reason);
    if (key !== keys.entry(entry.index)) return fail(expected, 'order', `entry ${entry.index} is stored under ${key}`);
    const obj = await kv.get<StoredObject>(keys.object(entry.payloadDigest));
    if (!obj) return fail(expected, 'payload', `entry ${expected}: payload ${entry.payloadDigest} is missing`);
    const actual = sha256Hex(Buffer.from(obj.value.data, 'base64'));
    if (actual !== entry.payloadDigest) {
      return fail(expected, 'payload', `entry ${expected}: payload modified (SHA-256 ${actual}, the entry says ${entry.payloadDigest})`);
    }
    digests.push(entry.digest);
    prev = entry.digest;
    expected++;
  }
  const head = await kv.get<ChainHead>(keys.head);
  if (expected === 0 && !head) return fail(0, 'head', `substream '${substream}' not found in the store`);
  if (!head || head.value.index !== expected - 1 || head.value.digest !== prev) {
    return fail(
      expected,
      'head',
      `the head (${head ? `index ${head.value.index}` : 'none'}) does not match the last entry (${expected - 1}): entries removed or added`,
    );
  }
  const receipts = await readReceipts(kv, substream);
  for (const r of receipts) {
    if (digests[r.to] !== r.lastDigest) {
      return fail(r.to, 'head', `entry ${r.to} differs from what was anchored in tick ${r.tick} (rewritten after anchoring)`);
    }
  }
  return { ok: true, substream, entries: expected, anchors: receipts.length };
}

/**
 * Checks one entry against its expected index and previous digest, and its signature when a key
 * is given; undefined when it is sound. The ticker checks proofs with it too.
 *
 * @example
 * ```ts
 * checkEntry(entry, 0, ZERO_DIGEST, 'A', publicKey); // undefined, or { broken: 'signature', reason }
 * ```
 */
export function checkEntry(
  entry: ChainEntry,
  expectedIndex: number,
  prev: string,
  substream: string,
  publicKey: KeyObject | undefined,
): { broken: BrokenLink; reason: string } | undefined {
  if (typeof entry !== 'object' || entry === null) return { broken: 'entry', reason: `entry ${expectedIndex}: not an object` };
  if (entry.substream !== substream) {
    return { broken: 'entry', reason: `entry ${expectedIndex}: belongs to substream ${JSON.stringify(entry.substream)}` };
  }
  if (entry.index !== expectedIndex) {
    return { broken: 'order', reason: `expected entry ${expectedIndex}, found entry ${String(entry.index)} (reordered or missing)` };
  }
  if (entry.prev !== prev) {
    return {
      broken: 'order',
      reason: `entry ${expectedIndex}: prev digest does not match entry ${expectedIndex - 1} (reordered, missing or inserted)`,
    };
  }
  let digest: string;
  try {
    digest = entryDigest(entry);
  } catch (e) {
    return { broken: 'entry', reason: `entry ${expectedIndex}: ${(e as Error).message}` };
  }
  if (publicKey && !verifySignature(entry, publicKey)) return { broken: 'signature', reason: `entry ${expectedIndex}: bad signature` };
  if (digest !== entry.digest) return { broken: 'entry', reason: `entry ${expectedIndex}: digest does not match its fields and signature` };
  return undefined;
}
