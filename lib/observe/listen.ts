import { TributaryError } from '../errors';

/**
 * Parses `--http`: `9464`, `:9464`, `127.0.0.1:9464`, `[::1]:9464` or `0.0.0.0:9464`; a bare
 * port binds to 127.0.0.1. A bad one is an error naming the flag.
 *
 * @example
 * ```ts
 * parseListen('9464');         // { host: '127.0.0.1', port: 9464 }
 * parseListen('0.0.0.0:9464'); // { host: '0.0.0.0', port: 9464 }
 * ```
 */
export function parseListen(text: string, what = '--http'): { host: string; port: number } {
  const t = text.trim();
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):)?(\d{1,5})$/.exec(t);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new TributaryError('BAD_OPTION', `${what} must be [host:]port (a port up to 65535, e.g. 127.0.0.1:9464), got '${text}'`);
  }
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
