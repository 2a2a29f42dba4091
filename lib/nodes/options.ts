import { MAX_TIMER_MS, parseDuration, type Duration } from '../duration';
import { TributaryError } from '../errors';
import { suggest } from '../util/suggest';

/** The value types an option can take. `duration` accepts Go syntax or ms and resolves to ms. */
export type OptionType = 'duration' | 'string' | 'number' | 'integer' | 'boolean' | 'function' | 'object' | 'array' | 'any';

/** How one option of a node kind is described: validation, defaults, docs and JSON Schema all come from here. */
export interface OptionSpec {
  readonly type: OptionType;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: unknown;
  /** Allowed values, for strings. */
  readonly enum?: readonly string[];
  /** Smallest allowed value, for numbers, integers and durations (ms). */
  readonly min?: number;
  /** Largest allowed value, for numbers, integers and durations (ms). */
  readonly max?: number;
  /** A credential: never echoed in error messages. */
  readonly secret?: boolean;
}

/** The options of a node kind by name. */
export type OptionsSchema = Readonly<Record<string, OptionSpec>>;

/** Whether an option must be given, has a default, or may be left out. */
export type Presence = 'required' | 'default' | 'optional';

/** What {@link opt} builders accept besides the description. */
export interface FieldExtras {
  readonly min?: number;
  readonly max?: number;
  readonly secret?: boolean;
}

/**
 * One option, typed: `In` is what users pass, `Out` what the node's `build` receives
 * (a duration comes in as `"2s"` or ms and goes out as ms). Build them with {@link opt}.
 *
 * @example
 * ```ts
 * const interval = opt.duration('period between ticks').require(); // Field<Duration, number, 'required'>
 * ```
 */
export class Field<In, Out, P extends Presence = 'optional'> implements OptionSpec {
  /** Type-level only: what users pass. */
  declare readonly '~in': In;
  /** Type-level only: what `build` receives. */
  declare readonly '~out': Out;
  /** Type-level only: required, defaulted or optional. */
  declare readonly '~presence': P;
  readonly type: OptionType;
  readonly description: string;
  readonly required?: boolean;
  readonly default?: unknown;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly secret?: boolean;

  constructor(spec: OptionSpec) {
    this.type = spec.type;
    this.description = spec.description;
    for (const k of ['required', 'default', 'enum', 'min', 'max', 'secret'] as const) {
      if (spec[k] !== undefined) (this as Record<string, unknown>)[k] = spec[k];
    }
  }

  /**
   * The same option, required.
   *
   * @example
   * ```ts
   * opt.string('subject to read').require();
   * ```
   */
  require(): Field<In, Out, 'required'> {
    return new Field({ ...this, required: true, default: undefined });
  }

  /**
   * The same option with a default (validated like a given value).
   *
   * @example
   * ```ts
   * opt.integer('most events per transaction', { min: 1 }).withDefault(1000);
   * ```
   */
  withDefault(value: In): Field<In, Out, 'default'> {
    return new Field({ ...this, required: undefined, default: value });
  }

  /**
   * The same option with another description (for a shared field whose meaning a kind narrows).
   *
   * @example
   * ```ts
   * const url = connectionFields.url.describe('NATS URL (default TRIBUTARY_NATS_URL)');
   * ```
   */
  describe(description: string): Field<In, Out, P> {
    return new Field({ ...this, description });
  }
}

type AnyField = Field<any, any, Presence>;
type KeysWhere<S, P extends Presence> = {
  [K in keyof S]: S[K] extends Field<any, any, infer Q> ? (Q extends P ? K : never) : never;
}[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * What users pass for a schema of {@link Field}s: required ones must be given, others may be left out.
 *
 * @example
 * ```ts
 * type TickerInput = InputOf<typeof tickerOptions>; // { interval: Duration }
 * ```
 */
export type InputOf<S> = Simplify<
  { [K in KeysWhere<S, 'required'>]: S[K] extends AnyField ? S[K]['~in'] : never } & {
    [K in Exclude<keyof S, KeysWhere<S, 'required'>>]?: S[K] extends AnyField ? S[K]['~in'] : unknown;
  }
>;

/**
 * What a kind's `build` receives for a schema: required and defaulted options are always there.
 *
 * @example
 * ```ts
 * type TickerResolved = OutputOf<typeof tickerOptions>; // { interval: number }
 * ```
 */
export type OutputOf<S> = Simplify<
  { [K in KeysWhere<S, 'required' | 'default'>]: S[K] extends AnyField ? S[K]['~out'] : never } & {
    [K in KeysWhere<S, 'optional'>]?: S[K] extends AnyField ? S[K]['~out'] : unknown;
  }
>;

function field<In, Out = In>(
  type: OptionType,
  description: string,
  extras: FieldExtras & { enum?: readonly string[] } = {},
): Field<In, Out> {
  return new Field<In, Out>({ type, description, ...extras });
}

/**
 * Builders for node-kind options: one declaration gives the TypeScript types (see
 * {@link InputOf}/{@link OutputOf}), validation, defaults, the docs and the JSON Schema.
 *
 * @example
 * ```ts
 * const options = {
 *   interval: opt.duration('period between ticks', { min: 1 }).require(),
 *   maxBatch: opt.integer('most events per transaction', { min: 1 }).withDefault(1000),
 *   unit: opt.enum(['s', 'ms'] as const, 'unit of the time column').withDefault('s'),
 *   fn: opt.fn<(payload: unknown) => unknown>('the function applied to each payload').require(),
 * };
 * ```
 */
export const opt = {
  /** A duration: Go syntax (`"1m30s"`) or ms; `build` gets ms. */
  duration: (description: string, extras?: FieldExtras) => field<Duration, number>('duration', description, extras),
  /**
   * A duration that becomes a timer (a period, a timeout, a delay): at most
   * {@link MAX_TIMER_MS}, which a timer can hold; a longer one is refused naming the option.
   */
  timer: (description: string, extras?: Omit<FieldExtras, 'max'>) =>
    field<Duration, number>('duration', description, { ...extras, max: MAX_TIMER_MS }),
  string: (description: string, extras?: FieldExtras) => field<string>('string', description, extras),
  number: (description: string, extras?: FieldExtras) => field<number>('number', description, extras),
  integer: (description: string, extras?: FieldExtras) => field<number>('integer', description, extras),
  boolean: (description: string) => field<boolean>('boolean', description),
  /** One of a fixed set of strings. */
  enum: <const V extends string>(values: readonly V[], description: string) => field<V>('string', description, { enum: values }),
  /** A function (JS, or a Lua function converted to JS). */
  fn: <F extends (...args: any[]) => unknown>(description: string) => field<F>('function', description),
  /** A plain object (a record, a table in Lua). */
  object: <T extends object = Record<string, unknown>>(description: string) => field<T>('object', description),
  /** A list. */
  array: <T = unknown>(description: string) => field<T[]>('array', description),
  /** Anything: the kind checks it itself. */
  any: <T = unknown>(description: string) => field<T>('any', description),
};

/**
 * Validates raw options against a schema: unknown names (with a suggestion), missing required
 * ones, wrong types and bad durations are errors naming the option and `where` (e.g.
 * `ticker 't'`). Defaults are filled in and durations become milliseconds.
 *
 * @example
 * ```ts
 * resolveOptions({ interval: opt.duration('period').require() }, { interval: '2s' }, "ticker 't'"); // { interval: 2000 }
 * resolveOptions({ interval: opt.duration('period') }, { intervall: '2s' }, "ticker 't'");
 * // throws "ticker 't': unknown option 'intervall' (known: interval) — did you mean 'interval'?"
 * ```
 */
export function resolveOptions(schema: OptionsSchema, raw: Record<string, unknown> | undefined, where: string): Record<string, unknown> {
  const input = raw ?? {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TributaryError('BAD_OPTION', `${where}: options must be an object, got ${describe(input)}`);
  }
  const known = Object.keys(schema);
  for (const key of Object.keys(input)) {
    // Own keys only: `key in schema` let 'toString' or 'constructor' through as if known.
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      const hint = suggest(key, known);
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: unknown option '${key}'` +
          (known.length ? ` (known: ${known.join(', ')})` : ' (it takes no options)') +
          (hint ? ` — did you mean '${hint}'?` : ''),
      );
    }
  }
  const out: Record<string, unknown> = {};
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
    new TributaryError(
      'BAD_OPTION',
      `${where}: option '${key}' must be ${expected}, got ${spec.secret ? 'a value (hidden)' : describe(value)}`,
    );
  switch (spec.type) {
    case 'duration': {
      let ms: number;
      try {
        ms = parseDuration(value, key);
      } catch (e) {
        throw new TributaryError('BAD_OPTION', `${where}: ${(e as Error).message}`);
      }
      return bounded(spec, ms, bad, 'ms');
    }
    case 'string':
      if (typeof value !== 'string') throw bad('a string');
      if (spec.enum && !spec.enum.includes(value)) {
        const hint = suggest(value, spec.enum);
        const error = bad(`one of ${spec.enum.map((v) => `"${v}"`).join(', ')}`);
        if (hint) error.message += ` — did you mean "${hint}"?`;
        throw error;
      }
      return value;
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad(spec.type === 'integer' ? 'an integer' : 'a number');
      if (spec.type === 'integer' && !Number.isInteger(value)) throw bad('an integer');
      return bounded(spec, value, bad, '');
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

function bounded(spec: OptionSpec, n: number, bad: (expected: string) => Error, unit: string): number {
  if (spec.min !== undefined && n < spec.min) throw bad(`at least ${spec.min}${unit}`);
  if (spec.max !== undefined && n > spec.max) throw bad(`at most ${spec.max}${unit}`);
  return n;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
