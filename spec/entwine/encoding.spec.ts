import { generateKeyPairSync } from 'node:crypto';
import {
  canonicalBytes,
  decodeCanonical,
  entryDigest,
  payloadBytes,
  sha256Hex,
  signEntry,
  verifySignature,
  ZERO_DIGEST,
  type UnsignedEntry,
} from '../../lib/entwine';

const unsigned: UnsignedEntry = {
  substream: 'news-A',
  index: 7,
  timestamp: 1_700_000_000_123,
  prev: sha256Hex(Buffer.from('prev')),
  payloadDigest: sha256Hex(Buffer.from('{"a":1}')),
  tick: 3,
  tickDigest: sha256Hex(Buffer.from('tick')),
};

describe('entwine canonical encoding', () => {
  it('round-trips every field', () => {
    expect(decodeCanonical(canonicalBytes(unsigned))).toEqual(unsigned);
    const none = { ...unsigned, index: 0, prev: ZERO_DIGEST, tick: -1, tickDigest: ZERO_DIGEST };
    expect(decodeCanonical(canonicalBytes(none))).toEqual(none);
  });

  it('is the documented layout, byte for byte', () => {
    const b = canonicalBytes(unsigned);
    expect(b.length).toBe(8 + 1 + 6 + 8 + 8 + 32 + 32 + 8 + 32);
    expect(b.subarray(0, 8).toString('ascii')).toBe('TBENTW01');
    expect(b[8]).toBe(6);
    expect(b.subarray(9, 15).toString('utf8')).toBe('news-A');
    expect(b.readBigInt64BE(15)).toBe(7n);
    expect(b.readBigInt64BE(23)).toBe(1_700_000_000_123n);
    expect(b.subarray(31, 63).toString('hex')).toBe(unsigned.prev);
    expect(b.subarray(63, 95).toString('hex')).toBe(unsigned.payloadDigest);
    expect(b.readBigInt64BE(95)).toBe(3n);
    expect(b.subarray(103, 135).toString('hex')).toBe(unsigned.tickDigest);
    expect(
      canonicalBytes({ ...unsigned, tick: -1 })
        .subarray(95, 103)
        .toString('hex'),
    ).toBe('ffffffffffffffff');
  });

  it('refuses what it cannot encode, naming the field', () => {
    expect(() => canonicalBytes({ ...unsigned, prev: 'xyz' })).toThrow(/prev/);
    expect(() => canonicalBytes({ ...unsigned, index: -1 })).toThrow(/index/);
    expect(() => canonicalBytes({ ...unsigned, substream: '' })).toThrow(/substream/);
    expect(() => decodeCanonical(Buffer.from('nonsense'))).toThrow(/canonical/);
    expect(() => decodeCanonical(Buffer.concat([canonicalBytes(unsigned), Buffer.from([0])]))).toThrow(/bytes/);
  });

  it('signs with Ed25519: any changed field breaks the signature; the digest covers the signature', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const entry = signEntry(unsigned, privateKey);
    expect(verifySignature(entry, publicKey)).toBe(true);
    expect(entryDigest(entry)).toBe(entry.digest);
    expect(entry.digest).toBe(sha256Hex(canonicalBytes(unsigned), Buffer.from(entry.signature, 'base64')));
    for (const change of [{ index: 8 }, { timestamp: 1 }, { payloadDigest: ZERO_DIGEST }, { tick: 4 }, { substream: 'news-B' }]) {
      expect(verifySignature({ ...entry, ...change }, publicKey)).toBe(false);
    }
    expect(verifySignature(entry, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it('digests JSON payloads with sorted keys, bytes as they are', () => {
    expect(payloadBytes({ b: 1, a: { d: 2, c: [3, { z: 1, y: 2 }] } }).toString()).toBe('{"a":{"c":[3,{"y":2,"z":1}],"d":2},"b":1}');
    expect(payloadBytes(new Uint8Array([1, 2, 3]))).toEqual(Buffer.from([1, 2, 3]));
    expect(() => payloadBytes(undefined)).toThrow(/JSON/);
  });
});
