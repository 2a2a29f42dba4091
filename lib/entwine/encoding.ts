// The chain entry and its canonical encoding: the bytes an Ed25519 signature covers and a digest
// is taken of. docs/entwine.md specifies them byte for byte; change both together or not at all.
import { createHash, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';

/** Length in bytes of a SHA-256 digest. */
export const DIGEST_BYTES = 32;
/** The digest standing for "no previous entry" / "no tick known": 32 zero bytes, as hex. */
export const ZERO_DIGEST = '0'.repeat(DIGEST_BYTES * 2);
const MAGIC = Buffer.from('TBENTW01', 'ascii');

/**
 * One message of a substream, as stored and as sent to the ticker. Digests are lowercase hex,
 * the signature base64.
 *
 * @example
 * ```ts
 * const e: ChainEntry = { substream: 'A', index: 0, timestamp: 0, prev: ZERO_DIGEST, payloadDigest: sha256Hex(bytes),
 *   tick: -1, tickDigest: ZERO_DIGEST, signature: '…', digest: '…' };
 * ```
 */
export interface ChainEntry {
  /** The substream's id (1 to 255 bytes of UTF-8). */
  substream: string;
  /** Position in the substream, from 0, with no gaps. */
  index: number;
  /** Milliseconds since the epoch, from the network's scheduler. */
  timestamp: number;
  /** `digest` of the entry at `index - 1`; {@link ZERO_DIGEST} for index 0. */
  prev: string;
  /** SHA-256 of the stored payload bytes. */
  payloadDigest: string;
  /** The latest ticker tick the substream knew when it wrote this entry (-1: none yet). */
  tick: number;
  /** That tick's digest ({@link ZERO_DIGEST} when `tick` is -1). */
  tickDigest: string;
  /** Ed25519 signature of {@link canonicalBytes}, base64. */
  signature: string;
  /** SHA-256 of the canonical bytes followed by the 64 signature bytes. */
  digest: string;
}

/** The fields a signature covers: an entry without `signature` and `digest`. */
export type UnsignedEntry = Omit<ChainEntry, 'signature' | 'digest'>;

/**
 * SHA-256 of `bytes` as lowercase hex.
 *
 * @example
 * ```ts
 * sha256Hex(Buffer.from('abc')); // 'ba7816bf…'
 * ```
 */
export function sha256Hex(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function digestBytes(hex: string, field: string): Buffer {
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/.test(hex)) {
    throw new Error(`${field}: not a SHA-256 digest (64 lowercase hex digits)`);
  }
  return Buffer.from(hex, 'hex');
}

function int64(n: number, field: string, min: number): Buffer {
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${field}: not an integer >= ${min}`);
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/**
 * The canonical encoding of an entry (what is signed): "TBENTW01", the substream id's UTF-8
 * length (1 byte) and bytes, index, timestamp (8-byte big-endian each), prev digest and payload
 * digest (32 bytes each), tick (8-byte big-endian, two's complement), tick digest (32 bytes).
 * Throws naming the field when one is out of range.
 *
 * @example
 * ```ts
 * const bytes = canonicalBytes({ substream: 'A', index: 0, timestamp: 1000, prev: ZERO_DIGEST,
 *   payloadDigest: sha256Hex(Buffer.from('{}')), tick: -1, tickDigest: ZERO_DIGEST });
 * bytes.length; // 8 + 1 + 1 + 8 + 8 + 32 + 32 + 8 + 32 = 130
 * ```
 */
export function canonicalBytes(e: UnsignedEntry): Buffer {
  const id = Buffer.from(String(e.substream), 'utf8');
  if (id.length < 1 || id.length > 255) throw new Error('substream: the id must be 1 to 255 bytes of UTF-8');
  return Buffer.concat([
    MAGIC,
    Buffer.from([id.length]),
    id,
    int64(e.index, 'index', 0),
    int64(e.timestamp, 'timestamp', 0),
    digestBytes(e.prev, 'prev'),
    digestBytes(e.payloadDigest, 'payloadDigest'),
    int64(e.tick, 'tick', -1),
    digestBytes(e.tickDigest, 'tickDigest'),
  ]);
}

/**
 * Reads back what {@link canonicalBytes} wrote; throws on anything else (a wrong magic, a short
 * or long buffer).
 *
 * @example
 * ```ts
 * decodeCanonical(canonicalBytes(unsigned)); // deep-equals unsigned
 * ```
 */
export function decodeCanonical(bytes: Uint8Array): UnsignedEntry {
  const b = Buffer.from(bytes);
  if (b.length < 9 || !b.subarray(0, 8).equals(MAGIC)) throw new Error('not a canonical entry (bad magic)');
  const n = b[8];
  const expected = 9 + n + 8 + 8 + 32 + 32 + 8 + 32;
  if (n === 0 || b.length !== expected) throw new Error(`not a canonical entry (${b.length} bytes, expected ${expected})`);
  let at = 9;
  const substream = b.subarray(at, (at += n)).toString('utf8');
  const index = Number(b.readBigInt64BE(at));
  const timestamp = Number(b.readBigInt64BE((at += 8)));
  const prev = b.subarray((at += 8), (at += 32)).toString('hex');
  const payloadDigest = b.subarray(at, (at += 32)).toString('hex');
  const tick = Number(b.readBigInt64BE(at));
  const tickDigest = b.subarray((at += 8), at + 32).toString('hex');
  return { substream, index, timestamp, prev, payloadDigest, tick, tickDigest };
}

/**
 * Signs an entry with an Ed25519 private key and computes its digest.
 *
 * @example
 * ```ts
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const entry = signEntry(unsigned, privateKey); // entry.signature, entry.digest
 * ```
 */
export function signEntry(e: UnsignedEntry, privateKey: KeyObject): ChainEntry {
  const bytes = canonicalBytes(e);
  const sig = edSign(null, bytes, privateKey);
  return { ...e, signature: sig.toString('base64'), digest: sha256Hex(bytes, sig) };
}

/**
 * The digest an entry must carry: SHA-256 of its canonical bytes and its signature.
 *
 * @example
 * ```ts
 * entryDigest(entry) === entry.digest; // true for an untouched entry
 * ```
 */
export function entryDigest(e: ChainEntry): string {
  return sha256Hex(canonicalBytes(e), Buffer.from(String(e.signature), 'base64'));
}

/**
 * True when the entry's signature is a valid Ed25519 signature of its canonical bytes by `publicKey`.
 *
 * @example
 * ```ts
 * verifySignature(entry, publicKey); // false after any field changed
 * ```
 */
export function verifySignature(e: ChainEntry, publicKey: KeyObject): boolean {
  try {
    const sig = Buffer.from(String(e.signature), 'base64');
    return sig.length === 64 && edVerify(null, canonicalBytes(e), publicKey, sig);
  } catch {
    return false;
  }
}

/**
 * The bytes a payload is stored as and digested over: a `Uint8Array` as is, anything else as
 * the UTF-8 of its JSON with object keys sorted (so equal values give equal digests).
 *
 * @example
 * ```ts
 * payloadBytes({ b: 1, a: 2 }).toString(); // '{"a":2,"b":1}'
 * ```
 */
export function payloadBytes(payload: unknown): Buffer {
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  const json = JSON.stringify(sortKeys(payload));
  if (json === undefined) throw new Error('payload has no JSON form');
  return Buffer.from(json, 'utf8');
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}
