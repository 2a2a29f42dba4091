// partitionOf is a wire contract: other publishers must be able to reproduce it exactly.
import { fnv1a32, partitionKeyText, partitionOf } from '../../lib/cluster/partition';

describe('partitionOf', () => {
  it('is FNV-1a 32 over UTF-8 (published test vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    // Non-ASCII is hashed as its UTF-8 bytes, not UTF-16 code units.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32('é')).toBe(h);
  });

  it('is the hash mod the count, of the key as text', () => {
    expect(partitionOf('foobar', 16)).toBe(0xbf9cf968 % 16);
    expect(partitionOf(42, 7)).toBe(partitionOf('42', 7));
    expect(partitionKeyText({ id: 1 })).toBe('{"id":1}');
    expect(partitionKeyText(null)).toBe('null');
  });

  it('spreads keys over every partition', () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[partitionOf(`customer-${i}`, 16)]++;
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it('rejects a count that is not a whole number of at least 1', () => {
    expect(() => partitionOf('a', 0)).toThrow(/at least 1, got 0/);
    expect(() => partitionOf('a', 2.5)).toThrow(/got 2.5/);
  });
});
