import type { OptionSpec, OptionsSchema } from './options';
import type { NodeKind } from './registry';

/** A JSON Schema (draft 2020-12) object, as plain data. */
export type JsonSchema = Record<string, unknown>;

/** Go-syntax durations (`"500ms"`, `"1m30s"`) or a number of milliseconds. */
const DURATION_PATTERN = '^\\s*(0|\\d+(\\.\\d+)?|((\\d+(\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h))+)\\s*$';

/**
 * The JSON Schema of one option. Functions cannot be written in JSON: they are described
 * (`x-tributary-type: "function"`) so editors can say so, and front-ends that read files
 * (YAML/JSON networks) reject them.
 *
 * @example
 * ```ts
 * optionJsonSchema(opt.duration('period').require());
 * // { description: 'period', anyOf: [{ type: 'string', pattern: … }, { type: 'number', minimum: 0 }] }
 * ```
 */
export function optionJsonSchema(o: OptionSpec): JsonSchema {
  const s: JsonSchema = { description: o.description };
  switch (o.type) {
    case 'duration':
      s.anyOf = [
        { type: 'string', pattern: DURATION_PATTERN },
        { type: 'number', minimum: o.min ?? 0, ...(o.max !== undefined ? { maximum: o.max } : {}) },
      ];
      s['x-tributary-type'] = 'duration';
      break;
    case 'string':
      s.type = 'string';
      if (o.enum) s.enum = [...o.enum];
      break;
    case 'number':
    case 'integer':
      s.type = o.type;
      if (o.min !== undefined) s.minimum = o.min;
      if (o.max !== undefined) s.maximum = o.max;
      break;
    case 'boolean':
      s.type = 'boolean';
      break;
    case 'object':
      s.type = 'object';
      break;
    case 'array':
      s.type = 'array';
      break;
    case 'function':
      s['x-tributary-type'] = 'function';
      break;
    case 'any':
      break;
  }
  if (o.default !== undefined && typeof o.default !== 'function') s.default = o.default;
  if (o.secret) s.writeOnly = true;
  return s;
}

/**
 * The JSON Schema of an options object: one property per option, required ones listed,
 * nothing else allowed.
 *
 * @example
 * ```ts
 * optionsJsonSchema(registry.get('ticker').options).required; // ['interval']
 * ```
 */
export function optionsJsonSchema(options: OptionsSchema): JsonSchema {
  const required = Object.entries(options)
    .filter(([, o]) => o.required)
    .map(([k]) => k);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(options).map(([k, o]) => [k, optionJsonSchema(o)])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}

/**
 * The JSON Schema of a node kind's options, titled and described from its declaration
 * (what `tributary nodes --json` prints and the declarative formats are checked against).
 *
 * @example
 * ```ts
 * kindJsonSchema(registry.get('ticker')).title; // 'ticker'
 * ```
 */
export function kindJsonSchema(kind: NodeKind<any>): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: kind.name,
    description: kind.summary,
    ...optionsJsonSchema(kind.options),
  };
}
