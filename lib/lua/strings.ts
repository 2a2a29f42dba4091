const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** Decoded table keys by their Lua byte array: constant keys in a script reuse one array. */
const decodedKeys = new WeakMap<Uint8Array, string>();

/**
 * Decodes a Lua string: UTF-8 text becomes a JS string, anything else (binary data) a
 * `Uint8Array` copy.
 *
 * @example
 * ```ts
 * luaBytesToJS(new Uint8Array([104, 105])); // 'hi'
 * luaBytesToJS(new Uint8Array([0xff]));     // Uint8Array [255]
 * ```
 */
export function luaBytesToJS(bytes: Uint8Array): string | Uint8Array {
  try {
    return utf8.decode(bytes);
  } catch {
    return Uint8Array.from(bytes);
  }
}

/**
 * A Lua string as JS text (invalid UTF-8 replaced), for names and messages.
 *
 * @example
 * ```ts
 * luaText(lua.lua_tolstring(L, 1)); // 'ticker_500ms'
 * ```
 */
export function luaText(bytes: Uint8Array | null): string {
  return bytes === null ? '' : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * {@link luaText} for a table key, cached per byte array: a constant key in a script is one
 * array however many tables use it, so the key of every event's table is decoded once.
 *
 * @example
 * ```ts
 * const key = keyText(lua.lua_tolstring(L, -2)!); // 'stake'
 * ```
 */
export function keyText(bytes: Uint8Array): string {
  let text = decodedKeys.get(bytes);
  if (text === undefined) {
    text = luaText(bytes);
    decodedKeys.set(bytes, text);
  }
  return text;
}

/** Decoded short string values by their Lua byte array. */
const decodedValues = new WeakMap<Uint8Array, string>();
/** Longer strings are rarely repeated values (text, documents): decoded without the cache. */
const INTERNED_MAX = 40;

/**
 * {@link luaBytesToJS} for values, caching the text of short strings per byte array. fengari
 * does not intern strings, but a script's constants and the strings the bridge caches on the
 * way in are one array however often they pass, so a value a script returns again and again
 * (`"EUR"`, a customer id it was given) is decoded once.
 *
 * @example
 * ```ts
 * valueText(lua.lua_tolstring(L, -1)!); // 'EUR'
 * ```
 */
export function valueText(bytes: Uint8Array): string | Uint8Array {
  if (bytes.length > INTERNED_MAX) return luaBytesToJS(bytes);
  let text = decodedValues.get(bytes);
  if (text === undefined) {
    const v = luaBytesToJS(bytes);
    if (typeof v !== 'string') return v;
    decodedValues.set(bytes, v);
    text = v;
  }
  return text;
}
