import { parseDuration } from '../duration';
import { TributaryError } from '../errors';

/** The value types an option can take. `duration` accepts Go syntax or ms and resolves to ms. */
export type OptionType =
  | 'duration'
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'function'
  | 'object'
  | 'array'
  | 'any';

/** How one option of a node kind is described: validation, defaults and docs all come from here. */
export interface OptionSpec {
  readonly type: OptionType;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: unknown;
  /** Allowed values, for strings. */
  readonly enum?: readonly string[];
  /** Smallest allowed value, for numbers, integers and durations (ms). */
  readonly min?: number;
}

/** The options of a node kind by name. */
export type OptionsSchema = Readonly<Record<string, OptionSpec>>;

/**
 * Validates raw options against a schema: unknown names, missing required ones, wrong types
 * and bad durations are errors naming the option (and `where`, e.g. the node kind). Defaults
 * are filled in and durations become milliseconds.
 *
 * @example
 * ```ts
 * resolveOptions({ interval: { type: 'duration', description: '', required: true } },
 *                { interval: '2s' }, "node kind 'ratelimit'"); // { interval: 2000 }
 * ```
 */
export function resolveOptions(
  schema: OptionsSchema,
  raw: Record<string, unknown> | undefined,
  where: string,
): Record<string, unknown> {
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TributaryError('BAD_OPTION', `${where}: options must be an object, got ${describe(input)}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    // Own keys only: `key in schema` let 'toString' or 'constructor' through as if known.
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      const known = Object.keys(schema);
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: unknown option '${key}'` + (known.length ? ` (known: ${known.join(', ')})` : ' (it takes no options)'),
      );
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = (input as Record<string, unknown>)[key];
    if (value === undefined || value === null) {
      if (spec.required) throw new TributaryError('BAD_OPTION', `${where}: option '${key}' is required (${spec.description})`);
      if (spec.default !== undefined) out[key] = check(spec, spec.default, key, where);
      continue;
    }
    out[key] = check(spec, value, key, where);
  }
  return out;
}

function check(spec: OptionSpec, value: unknown, key: string, where: string): unknown {
  const bad = (expected: string) =>
    new TributaryError('BAD_OPTION', `${where}: option '${key}' must be ${expected}, got ${describe(value)}`);
  switch (spec.type) {
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(value, key);
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `${where}: ${(e as Error).message}`);
      }
      if (spec.min !== undefined && ms < spec.min) throw bad(`at least ${spec.min}ms`);
      return ms;
    }
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      if (spec.enum && !spec.enum.includes(value)) throw bad(`one of ${spec.enum.map((v) => `"${v}"`).join(', ')}`);
      return value;
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(spec.type === 'integer' ? 'an integer' : 'a number');
      if (spec.type === 'integer' && !Number.isInteger(value)) throw bad('an integer');
      if (spec.min !== undefined && value < spec.min) throw bad(`at least ${spec.min}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('a boolean');
      return value;
    case 'function':
      if (typeof value !== 'function') throw bad('a function');
      return value;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) throw bad('an object');
      return value;
    case 'array':
      if (!Array.isArray(value)) throw bad('a list');
      return value;
    case 'any':
      return value;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
