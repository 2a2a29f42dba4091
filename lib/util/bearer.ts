import { timingSafeEqual } from 'node:crypto';

/**
 * Whether an `Authorization` header value carries exactly `Bearer <token>`, compared in
 * constant time (a wrong token takes as long to refuse whatever its first differing byte).
 * An absent header never matches.
 *
 * @example
 * ```ts
 * bearerMatches(req.headers.authorization, process.env.TRIBUTARY_TICKER_TOKEN!); // true or false
 * bearerMatches('Bearer s3cret', 's3cret'); // true
 * bearerMatches('Basic czNjcmV0', 's3cret'); // false
 * ```
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const got = Buffer.from(header);
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}
