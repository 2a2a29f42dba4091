import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { errorMessage } from '../../errors';

/** A request body the source refuses: answered 400 with this message. */
export class BadRequest extends Error {}

/** A request whose content type, charset or encoding the source cannot read: answered 415. */
export class UnsupportedMedia extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Media types read as JSON (or NDJSON) bodies; `auto` picks NDJSON for the NDJSON family. */
const NDJSON_TYPES = /^application\/(x-)?(ndjson|jsonl|jsonlines|json-seq)$/;
const JSON_TYPES = /^(application\/(json|[a-z0-9.+-]+\+json)|text\/json)$/;
// Types clients send JSON under without meaning otherwise: curl -d defaults to the form type.
const LENIENT_TYPES = /^(text\/plain|application\/x-www-form-urlencoded)$/;

/** What the `content-type` header says about a body: its format (when it names one) and charset. */
export interface Media {
  /** 'ndjson' for the NDJSON family, 'json' for JSON types, undefined when the type does not say. */
  format?: 'json' | 'ndjson';
  /** The charset label, lower-cased; 'utf-8' when none is given. */
  charset: string;
}

/**
 * Reads a `content-type` header: JSON (`application/json`, `application/*+json`), the NDJSON
 * family (`application/x-ndjson`, `application/jsonl` …), and the types clients often send
 * JSON under (`text/plain`, curl's default `application/x-www-form-urlencoded`) or no header
 * at all. Any other type (`multipart/form-data`, `image/png` …) and a charset that cannot be
 * decoded throw {@link UnsupportedMedia} naming it.
 *
 * @example
 * ```ts
 * mediaOf('application/x-ndjson');               // { format: 'ndjson', charset: 'utf-8' }
 * mediaOf('application/json; charset=UTF-16LE'); // { format: 'json', charset: 'utf-16le' }
 * mediaOf('multipart/form-data; boundary=x');    // throws: content type 'multipart/form-data' is not supported …
 * ```
 */
export function mediaOf(header: string | undefined): Media {
  const [typePart, ...params] = String(header ?? '').split(';');
  const type = typePart.trim().toLowerCase();
  let charset = 'utf-8';
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'charset' && v !== undefined) charset = v.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  let format: Media['format'];
  if (NDJSON_TYPES.test(type)) format = 'ndjson';
  else if (JSON_TYPES.test(type)) format = 'json';
  else if (type !== '' && !LENIENT_TYPES.test(type)) {
    throw new UnsupportedMedia(
      `content type '${type}' is not supported; send application/json or application/x-ndjson (text/plain is read as JSON too)`,
    );
  }
  if (charset !== 'utf-8' && charset !== 'utf8') {
    try {
      new TextDecoder(charset);
    } catch {
      throw new UnsupportedMedia(`charset '${charset}' is not supported; send UTF-8`);
    }
  }
  return { format, charset };
}

const INFLATERS = { gzip: gunzipSync, 'x-gzip': gunzipSync, deflate: inflateSync, br: brotliDecompressSync } as const;
type Coding = keyof typeof INFLATERS | 'identity';

/**
 * Reads a `content-encoding` header: `gzip`, `x-gzip`, `deflate`, `br`, or `identity` (also
 * for no header). Any other encoding throws {@link UnsupportedMedia} naming it.
 *
 * @example
 * ```ts
 * encodingOf('GZIP');     // 'gzip'
 * encodingOf(undefined);  // 'identity'
 * encodingOf('compress'); // throws: content encoding 'compress' is not supported …
 * ```
 */
export function encodingOf(header: string | undefined): Coding {
  const coding = String(header ?? '')
    .trim()
    .toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if (Object.hasOwn(INFLATERS, coding)) return coding as Coding;
  throw new UnsupportedMedia(`content encoding '${coding}' is not supported; use gzip, deflate, br or none`);
}

/**
 * Undoes a content encoding (see {@link encodingOf}), refusing output past `maxBytes`: a small
 * compressed body must not expand without bound. A corrupt body throws {@link BadRequest}.
 *
 * @example
 * ```ts
 * inflateBody(gzipSync('{"a":1}'), 'gzip', 1_048_576).toString(); // '{"a":1}'
 * inflateBody(gzipSync('x'.repeat(5000)), 'gzip', 1024);          // throws: body is over the limit of 1024 bytes once decompressed (gzip)
 * ```
 */
export function inflateBody(bytes: Buffer, coding: Coding, maxBytes: number): Buffer {
  if (coding === 'identity') return bytes;
  try {
    return INFLATERS[coding](bytes, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BadRequest(`body is over the limit of ${maxBytes} bytes once decompressed (${coding})`);
    }
    throw new BadRequest(`body is not valid ${coding} data: ${errorMessage(err)}`);
  }
}

/**
 * Decodes a request body as UTF-8 (or the given charset), refusing (rather than replacing)
 * invalid byte sequences.
 *
 * @example
 * ```ts
 * decodeBody(Buffer.from('{"a":"é"}')); // '{"a":"é"}'
 * decodeBody(Buffer.from([0x22, 0xff, 0x22])); // throws BadRequest('body is not valid UTF-8')
 * decodeBody(Buffer.from('{"a":"é"}', 'latin1'), 'iso-8859-1'); // '{"a":"é"}'
 * ```
 */
export function decodeBody(bytes: Uint8Array, charset = 'utf-8'): string {
  if (charset === 'utf-8' || charset === 'utf8') {
    try {
      return utf8.decode(bytes);
    } catch {
      throw new BadRequest('body is not valid UTF-8');
    }
  }
  try {
    return new TextDecoder(charset, { fatal: true }).decode(bytes);
  } catch {
    throw new BadRequest(`body is not valid ${charset}`);
  }
}

/**
 * How deeply a parsed JSON value nests: 0 for a scalar, 1 for a flat object or array, one more
 * per level. Iterative, so a hostile value cannot overflow the stack; stops counting past `limit`.
 *
 * @example
 * ```ts
 * jsonDepth(5);              // 0
 * jsonDepth({ a: [1, 2] });  // 2
 * jsonDepth([[[[]]]], 2);    // 3 (stopped once over the limit of 2)
 * ```
 */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth]);
    }
  }
  return max;
}

function checkDepth(value: unknown, maxDepth: number, where: string): void {
  if (jsonDepth(value, maxDepth) > maxDepth)
    throw new BadRequest(`${where} is nested deeper than the limit of ${maxDepth} levels (maxDepth)`);
}

/**
 * Parses a request body into payloads: one per object of an NDJSON body, one per element of
 * a JSON array, or the one JSON value. Throws with the line number for bad NDJSON, and for a
 * payload nested deeper than `maxDepth` (an array body counts from its elements).
 *
 * @example
 * ```ts
 * parseBody('{"a":1}\n{"a":2}\n', 'ndjson'); // [{ a: 1 }, { a: 2 }]
 * parseBody('[1,2]', 'json');               // [1, 2]
 * parseBody('[[[1]]]', 'json', 1);          // throws 'element 1 is nested deeper than the limit of 1 levels (maxDepth)'
 * ```
 */
export function parseBody(text: string, format: 'json' | 'ndjson', maxDepth = Infinity): unknown[] {
  if (format === 'json') {
    if (text.trim() === '') throw new BadRequest('empty body: expected JSON');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new BadRequest(`malformed JSON: ${errorMessage(err)}`);
    }
    if (!Array.isArray(value)) {
      checkDepth(value, maxDepth, 'the JSON body');
      return [value];
    }
    value.forEach((v, i) => checkDepth(v, maxDepth, `element ${i + 1}`));
    return value;
  }
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new BadRequest(`malformed NDJSON at line ${i + 1}: ${errorMessage(err)}`);
    }
    checkDepth(value, maxDepth, `NDJSON line ${i + 1}`);
    out.push(value);
  }
  if (out.length === 0) throw new BadRequest('empty body: expected NDJSON lines');
  return out;
}
