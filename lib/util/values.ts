/**
 * True for a promise or any object with a `then` method (what `await` would wait for).
 *
 * @example
 * ```ts
 * isThenable(Promise.resolve(1)); // true
 * isThenable(42);                 // false
 * ```
 */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function';
}

/**
 * True for a plain record: an object that is not a list, a byte array or null.
 *
 * @example
 * ```ts
 * isPlainObject({ a: 1 });         // true
 * isPlainObject([1]);              // false
 * isPlainObject(new Uint8Array()); // false
 * ```
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}
