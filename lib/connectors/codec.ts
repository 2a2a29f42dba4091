import { TributaryError } from '../errors';

/** How a connector turns message bytes into payloads and back. */
export type Codec = 'json' | 'string' | 'bytes';

/** Allowed codec names, for option schemas. */
export const CODECS: readonly Codec[] = ['json', 'string', 'bytes'];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a payload for the wire: bytes pass through, strings are UTF-8 with the `string`
 * codec, everything else is JSON.
 *
 * @example
 * ```ts
 * encodePayload({ stake: 5 }, 'json'); // bytes of '{"stake":5}'
 * ```
 */
export function encodePayload(payload: unknown, codec: Codec): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  if (codec === 'string' && typeof payload === 'string') return encoder.encode(payload);
  const text = JSON.stringify(payload);
  if (text === undefined) throw new TributaryError('BAD_OPTION', `cannot encode a ${typeof payload} payload as JSON`);
  return encoder.encode(text);
}

/**
 * Decodes wire bytes into a payload; malformed JSON throws (the caller turns it into an error event).
 *
 * @example
 * ```ts
 * decodeMessage(new TextEncoder().encode('{"a":1}'), 'json'); // { a: 1 }
 * ```
 */
export function decodeMessage(data: Uint8Array, codec: Codec): unknown {
  if (codec === 'bytes') return data;
  const text = decoder.decode(data);
  if (codec === 'string') return text;
  return JSON.parse(text);
}
