/** One stream entry as Redis returns it: its id and its field/value list (`null` once deleted). */
export interface StreamEntry {
  readonly id: string;
  readonly fields: Buffer[] | null;
}

const text = (b: unknown): string => (Buffer.isBuffer(b) ? b.toString('utf8') : String(b));

/**
 * The entries of an `XRANGE`/`XCLAIM` style reply (`[[id, [field, value, …]], …]`), read
 * with `callBuffer`; a deleted entry comes with `fields: null`.
 *
 * @example
 * ```ts
 * entriesOf([[Buffer.from('1-0'), [Buffer.from('data'), Buffer.from('{}')]]]); // [{ id: '1-0', fields: [<data>, <{}>] }]
 * ```
 */
export function entriesOf(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: StreamEntry[] = [];
  for (const e of reply) {
    // XCLAIM answers nil for an id it could not claim on some versions.
    if (!Array.isArray(e) || e.length < 1) continue;
    out.push({ id: text(e[0]), fields: Array.isArray(e[1]) ? (e[1] as Buffer[]) : null });
  }
  return out;
}

/**
 * The entries of an `XREADGROUP` reply for one stream (`[[stream, entries]]`, or nil when the
 * BLOCK timed out).
 *
 * @example
 * ```ts
 * readReply(null); // []
 * ```
 */
export function readReply(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const first = reply[0] as unknown[];
  return entriesOf(first[1]);
}

/**
 * An `XAUTOCLAIM` reply: the cursor to continue from (`0-0` when the scan is complete), the
 * claimed entries, and the ids of deleted entries Redis dropped from the pending list.
 *
 * @example
 * ```ts
 * autoclaimReply([Buffer.from('0-0'), [], []]); // { cursor: '0-0', entries: [], deleted: [] }
 * ```
 */
export function autoclaimReply(reply: unknown): { cursor: string; entries: StreamEntry[]; deleted: string[] } {
  const r = reply as unknown[];
  return {
    cursor: text(r[0]),
    entries: entriesOf(r[1]),
    deleted: Array.isArray(r[2]) ? r[2].map(text) : [],
  };
}

/**
 * Splits an entry's fields into the payload field's bytes and the other fields as strings.
 *
 * @example
 * ```ts
 * splitFields([Buffer.from('data'), Buffer.from('1'), Buffer.from('src'), Buffer.from('a')], 'data');
 * // { data: <1>, rest: { src: 'a' } }
 * ```
 */
export function splitFields(fields: Buffer[], field: string): { data: Buffer | undefined; rest: Record<string, string> } {
  let data: Buffer | undefined;
  const rest: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = text(fields[i]);
    if (name === field && data === undefined) data = Buffer.isBuffer(fields[i + 1]) ? fields[i + 1] : Buffer.from(text(fields[i + 1]));
    else rest[name] = text(fields[i + 1]);
  }
  return { data, rest };
}
