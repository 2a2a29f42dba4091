/**
 * Secrets never reach a log line or an error message: one place that knows how to hide
 * them, for every connector and the window store.
 */

/** The parts of `scheme://user:password@rest`, or undefined when the URL carries no user info. */
interface UserInfo {
  scheme: string;
  user: string;
  password?: string;
  rest: string;
}

function userInfo(url: string): UserInfo | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return undefined;
  // The last '@': a password may hold an unencoded '/' or '@', and all of it must go.
  const at = m[2].lastIndexOf('@');
  if (at < 0) return undefined;
  const info = m[2].slice(0, at);
  const colon = info.indexOf(':');
  return {
    scheme: m[1],
    user: colon < 0 ? info : info.slice(0, colon),
    ...(colon < 0 ? {} : { password: info.slice(colon + 1) }),
    rest: m[2].slice(at + 1),
  };
}

/**
 * A URL fit for messages: everything between the user name and the last '@' (the password,
 * even one holding an unencoded '/' or '@') replaced by `***`.
 *
 * @example
 * ```ts
 * shownUrl('amqp://app:s3cret@mq:5672/prod'); // 'amqp://app:***@mq:5672/prod'
 * shownUrl('mysql://root@127.0.0.1/test');    // unchanged: no password
 * ```
 */
export function shownUrl(url: string): string {
  const u = userInfo(url);
  if (!u || u.password === undefined) return url;
  return `${u.scheme}${u.user}:***@${u.rest}`;
}

/**
 * Replaces every occurrence of each secret in `text` with `<redacted>`; empty secrets are ignored.
 *
 * @example
 * ```ts
 * redact('GET /bot123:abc/sendMessage failed', ['123:abc']); // 'GET /bot<redacted>/sendMessage failed'
 * ```
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('<redacted>');
  return out;
}

/**
 * The password of `url`, raw, URL-decoded and URL-encoded: every form a library may echo.
 *
 * @example
 * ```ts
 * urlSecrets('amqp://app:p%40ss@mq'); // ['p%40ss', 'p@ss']
 * ```
 */
export function urlSecrets(url: string): string[] {
  const password = userInfo(url)?.password;
  if (!password) return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    /* not encoded */
  }
  return [...new Set([password, decoded, encodeURIComponent(decoded)])].filter((s) => s.length > 0);
}

/**
 * A message (from a client library, say) with the password of `url` removed in any form.
 *
 * @example
 * ```ts
 * redactUrlSecrets('amqp://app:pa/ss@mq', 'bad URL amqp://app:pa/ss@mq'); // 'bad URL amqp://app:<redacted>@mq'
 * ```
 */
export function redactUrlSecrets(url: string, text: string): string {
  return redact(text, urlSecrets(url));
}

/** Option names whose values are secret whatever they hold. */
const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|private[-_]?key|auth|credential|cookie|signature/i;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * A node's options fit to show (the live page, `/nodes/<name>`): values under secret-looking
 * names (`password`, `token`, `authorization` …) become `***`, URLs keep only scheme, host and
 * port (user info, paths and queries can carry keys, as a Slack webhook's path does), functions
 * become `<function>`. Nesting is cut at 4 levels.
 *
 * @example
 * ```ts
 * redactOptions({ url: 'nats://u:p@h:4222/x?y', token: 'abc', fn: () => 1 });
 * // { url: 'nats://h:4222', token: '***', fn: '<function>' }
 * ```
 */
export function redactOptions(value: unknown, depth = 0): unknown {
  if (typeof value === 'function') return '<function>';
  if (typeof value === 'string') return URL_LIKE.test(value) ? urlOrigin(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '…';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactOptions(v, depth + 1));
  if (!isPlainObject(value)) return `<${(value as object).constructor?.name ?? 'object'}>`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== undefined ? '***' : redactOptions(v, depth + 1);
  return out;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function urlOrigin(url: string): string {
  const u = userInfo(url);
  const bare = u ? `${u.scheme}${u.rest}` : url;
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(bare);
  return m ? m[1] : '***';
}

/** URLs in free text: up to a blank, a quote or an angle bracket. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
/** `Bearer <token>`, `Basic <base64>`: credentials of an Authorization header quoted in text. */
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;
/** `token=…`, `password=…` (query strings, connection strings): values named like secrets. */
const SECRET_PAIR =
  /\b(access_token|refresh_token|id_token|token|api_?key|apikey|password|passwd|pwd|secret|client_secret|sig|signature)=([^&\s"'\\;,]+)/gi;

/**
 * Free text (a log line, an error message from a client library) with the credentials it may
 * carry hidden: the password of every `scheme://user:password@host` URL (as {@link shownUrl}),
 * the credentials after `Bearer` or `Basic`, the values of `key=value` pairs named like
 * secrets (`token`, `password`, `api_key`, `secret` …), and every string in `secrets` (as
 * {@link redact}). The logger of `tributary run` passes every line through it.
 *
 * @example
 * ```ts
 * redactCredentials('cannot reach amqp://app:s3cret@mq/?token=abc'); // 'cannot reach amqp://app:***@mq/?token=<redacted>'
 * redactCredentials('Authorization: Bearer eyJhbGciOi');             // 'Authorization: Bearer <redacted>'
 * ```
 */
export function redactCredentials(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = redact(text, secrets);
  if (out.includes('://')) out = out.replace(URL_IN_TEXT, (url) => shownUrl(url));
  return out.replace(AUTH_SCHEME, '$1 <redacted>').replace(SECRET_PAIR, '$1=<redacted>');
}
