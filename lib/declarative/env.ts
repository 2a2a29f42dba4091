import { TributaryError } from '../errors';

/** One variable a reference put into a value. */
export interface EnvUse {
  name: string;
  value: string;
}

/** What {@link expandEnv} made of one string. */
export interface Expanded {
  /** The text with every reference replaced. */
  text: string;
  /** The variables that were put in, with their values (to hide from messages and logs: they may be secrets). */
  used: EnvUse[];
  /** True when the whole text was one reference (`"${PORT}"`), so a number option may take it as a number. */
  whole: boolean;
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces the environment references in one string: `${NAME}` by the variable's value,
 * `${NAME:-default}` by the default when the variable is unset or empty, `$${` by a literal
 * `${`. A variable that is not set (and has no default) is an error naming it, as is a
 * reference that is not a variable name.
 *
 * @example
 * ```ts
 * expandEnv('nats://app:${NATS_TOKEN}@bus:4222', { NATS_TOKEN: 's3cret' }).text; // 'nats://app:s3cret@bus:4222'
 * expandEnv('${PORT:-4222}', {}).text;                                          // '4222'
 * expandEnv('costs $${PRICE}', {}).text;                                        // 'costs ${PRICE}'
 * ```
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): Expanded {
  const used: EnvUse[] = [];
  let references = 0;
  let literal = false;
  const out = text.replace(REFERENCE, (match, body: string | undefined) => {
    if (body === undefined) {
      literal = true;
      return '${';
    }
    references++;
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    if (!NAME.test(name)) {
      throw new TributaryError(
        'BAD_OPTION',
        `'${match}' is not an environment reference: write \${NAME} or \${NAME:-default} (NAME: letters, digits, '_'), or $\${ for a literal \${`,
      );
    }
    const value = env[name];
    if (sep >= 0 && (value === undefined || value === '')) return body.slice(sep + 2);
    if (value === undefined) throw new TributaryError('BAD_OPTION', `environment variable '${name}' is not set`);
    used.push({ name, value });
    return value;
  });
  const whole = references === 1 && !literal && /^\$\{[^}]*\}$/.test(text);
  return { text: out, used, whole };
}

/**
 * True when a string holds an environment reference (`${…}`) or an escaped `$${`.
 *
 * @example
 * ```ts
 * hasEnvReference('token ${NATS_TOKEN}'); // true
 * hasEnvReference('plain');               // false
 * ```
 */
export function hasEnvReference(text: string): boolean {
  return text.includes('${');
}
