// Which partition a key belongs to (docs/scale-out.md, "Publishing partitioned"). The function
// is part of the wire contract: any publisher (another language, a NATS subject transform
// configured by hand) that computes it the same way sends each key to the same partition.

/**
 * The text a key is hashed as: a string as it is; a number, boolean, bigint or null as
 * `String(key)` (`42` → `"42"`); an object or array as its JSON text.
 *
 * @example
 * ```ts
 * partitionKeyText(42); // '42'
 * partitionKeyText({ a: 1 }); // '{"a":1}'
 * ```
 */
export function partitionKeyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key !== null && typeof key === 'object') return JSON.stringify(key);
  return String(key);
}

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`: offset basis 2166136261, prime 16777619,
 * each byte XORed in then multiplied (mod 2^32). Unsigned result.
 *
 * @example
 * ```ts
 * fnv1a32(''); // 2166136261
 * fnv1a32('a'); // 3826002220 (0xe40c292c)
 * ```
 */
export function fnv1a32(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The partition of `key` among `count`: `fnv1a32(partitionKeyText(key)) % count`. Stable across
 * processes, machines and versions; a partitioning publisher sends the event to
 * `<subject>.<partition>`.
 *
 * @example
 * ```ts
 * partitionOf('alice', 16); // the same number in every process
 * ```
 */
export function partitionOf(key: unknown, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`partition count must be a whole number of at least 1, got ${count}`);
  return fnv1a32(partitionKeyText(key)) % count;
}
