import { errorMessage } from '../../errors';

/** A request body the source refuses: answered 400 with this message. */
export class BadRequest extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a request body as UTF-8, refusing (rather than replacing) invalid byte sequences.
 *
 * @example
 * ```ts
 * decodeBody(Buffer.from('{"a":"é"}')); // '{"a":"é"}'
 * decodeBody(Buffer.from([0x22, 0xff, 0x22])); // throws BadRequest('body is not valid UTF-8')
 * ```
 */
export function decodeBody(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new BadRequest('body is not valid UTF-8');
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
