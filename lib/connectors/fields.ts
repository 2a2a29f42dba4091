import { TributaryError } from '../errors';
import { opt } from '../nodes/options';
import { CODECS } from './codec';

/**
 * Option fields several connectors share, declared once and spread (or picked) into each
 * kind's schema. A kind that means something narrower says so with `.describe(…)`, and sets
 * its own default with `.withDefault(…)` or makes a field required with `.require()`.
 */

/**
 * Where a connector connects and the credentials it uses. Every URL may hold credentials
 * (`amqp://user:password@host`, a Slack webhook's path), so it is marked secret; none of
 * these values is echoed in an error message.
 *
 * @example
 * ```ts
 * const options = { url: connectionFields.url.describe('NATS URL (default TRIBUTARY_NATS_URL)'), token: connectionFields.token };
 * ```
 */
export const connectionFields = {
  url: opt.string('URL to connect to (credentials in it are never shown)', { secret: true }),
  token: opt.string('credential sent with each request; never logged', { secret: true }),
  tokenEnv: opt.string('environment variable holding the token'),
  username: opt.string('user name to authenticate with (wins over one in the URL)'),
  password: opt.string('password to authenticate with (wins over one in the URL); never logged', { secret: true }),
  tls: opt.boolean('connect over TLS (a URL scheme such as rediss:// or mqtts:// does too)'),
};

/**
 * How a connector delivers: the cap on events in flight, timeouts, the wire encoding and
 * retries. Defaults differ per kind, so each kind sets its own.
 *
 * @example
 * ```ts
 * const options = { maxInFlight: deliveryFields.maxInFlight.withDefault(256), codec: deliveryFields.codec };
 * ```
 */
export const deliveryFields = {
  maxInFlight: opt.integer('cap on emitted but unsettled events', { min: 1 }),
  ackTimeout: opt.timer('how long to wait for the acks of an event before giving up on it', { min: 1 }),
  closeTimeout: opt
    .timer('on stop, how long in-flight events may take to settle before the connection closes', { min: 0 })
    .withDefault('30s'),
  codec: opt.enum(CODECS, 'payload encoding on the wire: json, string or bytes').withDefault('json'),
  concurrency: opt.integer('publishes awaiting their acknowledgement at once', { min: 1 }).withDefault(64),
  retries: opt.integer('retries of a failed publish, with back-off from 250ms', { min: 0 }).withDefault(3),
};

/**
 * An option's value, else the environment variable that `envName` names; `undefined` when
 * neither is set.
 *
 * @example
 * ```ts
 * optionOrEnv(o.token, o.tokenEnv); // o.token, else process.env.TRIBUTARY_HTTP_TOKEN
 * ```
 */
export function optionOrEnv<T>(value: T | undefined, envName: string): T | string | undefined {
  return value ?? process.env[envName];
}

/**
 * Like {@link optionOrEnv} for a string that must not be empty: neither being set (or an
 * empty one) is an error naming the kind, the option and the variable.
 *
 * @example
 * ```ts
 * requiredOptionOrEnv('slack', 'url', o.url, o.urlEnv);
 * // throws "node kind 'slack': give option 'url' or set the environment variable SLACK_WEBHOOK_URL"
 * ```
 */
export function requiredOptionOrEnv(kind: string, option: string, value: string | undefined, envName: string): string {
  const v = optionOrEnv(value, envName);
  if (!v) throw new TributaryError('BAD_OPTION', `node kind '${kind}': give option '${option}' or set the environment variable ${envName}`);
  return v;
}

/**
 * A user name and password sent when connecting (for protocols that take them apart from the
 * URL); the password is secret: never echoed in a message, and redacted from the client
 * library's own.
 *
 * @example
 * ```ts
 * const options = { username: credentialFields.username, password: credentialFields.password };
 * ```
 */
export const credentialFields = {
  username: opt.string('user name to authenticate with (or in the URL: scheme://user:password@host)'),
  password: opt.string('password to authenticate with; never logged', { secret: true }),
};

/**
 * TLS settings of a connection (used with a `…s://` URL): certificates as PEM text or a path to
 * a PEM file, and whether the server certificate must verify.
 *
 * @example
 * ```ts
 * const options = { ...tlsFields }; // { ca, cert, key, rejectUnauthorized }
 * ```
 */
export const tlsFields = {
  ca: opt.string('CA certificate(s) to trust: PEM text or the path of a PEM file'),
  cert: opt.string('client certificate: PEM text or the path of a PEM file'),
  key: opt.string('client private key: PEM text or the path of a PEM file; never logged', { secret: true }),
  rejectUnauthorized: opt.boolean('refuse a server certificate that does not verify').withDefault(true),
};
