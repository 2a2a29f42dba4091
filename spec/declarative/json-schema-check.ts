// A small JSON Schema (2020-12) validator for the keywords networkJsonSchema uses, so specs
// can check example files against the generated schema without a new dependency. An unknown
// keyword is an error: the schema cannot grow a keyword this validator silently ignores.

type Schema = Record<string, unknown> | boolean;

const KNOWN = new Set([
  '$schema',
  '$ref',
  '$defs',
  'title',
  'description',
  'default',
  'writeOnly',
  'x-tributary-type',
  'type',
  'enum',
  'const',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'minItems',
  'properties',
  'patternProperties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  'if',
  'then',
  'else',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The ways `value` breaks `schema` (empty when it conforms), each as `path: problem`.
 *
 * @example
 * ```ts
 * validate(schema, { nodes: [] }); // []
 * ```
 */
export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  const resolve = (ref: string): Schema => {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let s: unknown = root;
    for (const part of ref.slice(2).split('/')) s = (s as Record<string, unknown>)[part];
    if (s === undefined) throw new Error(`unresolved $ref ${ref}`);
    return s as Schema;
  };
  const check = (schema: Schema, v: unknown, at: string, out: string[]): void => {
    if (schema === true) return;
    if (schema === false) return void out.push(`${at}: not allowed`);
    for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`validator does not know keyword '${k}'`);
    if (typeof schema.$ref === 'string') check(resolve(schema.$ref), v, at, out);
    if (schema.type !== undefined) {
      const t = typeOf(v);
      const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
      if (!ok) return void out.push(`${at}: must be ${String(schema.type)}, is ${t}`);
    }
    if (Array.isArray(schema.enum) && !schema.enum.some((e) => same(e, v))) out.push(`${at}: not one of ${JSON.stringify(schema.enum)}`);
    if ('const' in schema && !same(schema.const, v)) out.push(`${at}: must be ${JSON.stringify(schema.const)}`);
    if (typeof v === 'string') {
      if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(v))
        out.push(`${at}: does not match ${schema.pattern}`);
      if (typeof schema.minLength === 'number' && [...v].length < schema.minLength) out.push(`${at}: too short`);
    }
    if (typeof v === 'number') {
      if (typeof schema.minimum === 'number' && v < schema.minimum) out.push(`${at}: below ${schema.minimum}`);
      if (typeof schema.maximum === 'number' && v > schema.maximum) out.push(`${at}: above ${schema.maximum}`);
    }
    if (Array.isArray(v)) {
      if (typeof schema.minItems === 'number' && v.length < schema.minItems) out.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.items !== undefined) v.forEach((item, i) => check(schema.items as Schema, item, `${at}[${i}]`, out));
    }
    if (typeOf(v) === 'object') {
      const obj = v as Record<string, unknown>;
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) out.push(`${at}: missing '${r}'`);
      const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>);
      for (const [k, item] of Object.entries(obj)) {
        const matching = patterns.filter(([p]) => new RegExp(p, 'u').test(k));
        for (const [, s] of matching) check(s, item, `${at}.${k}`, out);
        if (k in props) check(props[k], item, `${at}.${k}`, out);
        else if (matching.length > 0) continue;
        else if (schema.additionalProperties === false) out.push(`${at}: unknown property '${k}'`);
        else if (typeof schema.additionalProperties === 'object') check(schema.additionalProperties as Schema, item, `${at}.${k}`, out);
      }
    }
    const passes = (s: Schema) => {
      const o: string[] = [];
      check(s, v, at, o);
      return o.length === 0;
    };
    if (Array.isArray(schema.allOf)) for (const s of schema.allOf as Schema[]) check(s, v, at, out);
    if (Array.isArray(schema.anyOf) && !(schema.anyOf as Schema[]).some(passes)) out.push(`${at}: matches none of anyOf`);
    if (Array.isArray(schema.oneOf) && (schema.oneOf as Schema[]).filter(passes).length !== 1)
      out.push(`${at}: must match exactly one of oneOf`);
    if (schema.if !== undefined) {
      if (passes(schema.if as Schema)) {
        if (schema.then !== undefined) check(schema.then as Schema, v, at, out);
      } else if (schema.else !== undefined) check(schema.else as Schema, v, at, out);
    }
  };
  check(root, value, '$', errors);
  return errors;
}
