import { TributaryError } from '../errors';
import { shownUrl } from './redact';

/**
 * Reads `?schema=` off a `postgres://` URL: the URL without it (other parameters kept) and the
 * schema, checked to be a plain identifier; `owner` names who was given the URL in the error.
 *
 * @example
 * ```ts
 * postgresSchema('postgres://u@h/db?schema=bets&sslmode=require', 'window store');
 * // { url: 'postgres://u@h/db?sslmode=require', schema: 'bets' }
 * ```
 */
export function postgresSchema(url: string, owner: string): { url: string; schema?: string } {
  const q = url.indexOf('?');
  if (q < 0) return { url };
  let schema: string | undefined;
  const rest = url
    .slice(q + 1)
    .split('&')
    .filter((kv) => {
      const [k, v = ''] = kv.split('=');
      if (k !== 'schema') return true;
      schema = decodeURIComponent(v);
      return false;
    });
  const base = url.slice(0, q) + (rest.length ? `?${rest.join('&')}` : '');
  if (schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) {
    throw new TributaryError('BAD_OPTION', `${owner}: schema '${schema}' in '${shownUrl(url)}' must be letters, digits and underscores`);
  }
  return schema === undefined ? { url: base } : { url: base, schema };
}
