import { optionsJsonSchema, type JsonSchema } from '../nodes/json-schema';
import type { NodeKind, Registry } from '../nodes/registry';

/** An environment reference standing for a whole value: `${PORT}`, `${PORT:-4222}`. */
const ENV_REFERENCE = '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$';

/**
 * The JSON Schema (draft 2020-12) of Tributary's declarative network files, generated from
 * the node declarations of a registry (its plugins' kinds included): `nodes` whose `kind`
 * is one of the registry's and whose `options` follow that kind's option schema, and
 * `edges`. What `tributary schema` prints; point an editor at it (`# yaml-language-server:
 * $schema=network.schema.json`) to complete and check network files.
 *
 * @example
 * ```ts
 * const schema = networkJsonSchema(createRegistry({ plugins: builtinPlugins() }));
 * fs.writeFileSync('network.schema.json', JSON.stringify(schema, null, 2));
 * ```
 */
export function networkJsonSchema(registry: Registry): JsonSchema {
  const kinds = registry.list();
  const defs: Record<string, JsonSchema> = {
    nodeName: { type: 'string', minLength: 1, description: 'a node name (unique in the network)' },
    nodeNames: {
      anyOf: [{ $ref: '#/$defs/nodeName' }, { type: 'array', items: { $ref: '#/$defs/nodeName' }, minItems: 1 }],
    },
    envReference: {
      type: 'string',
      pattern: ENV_REFERENCE,
      description: 'an environment variable standing for the whole value: ${NAME} or ${NAME:-default}',
    },
    lua: {
      type: 'object',
      properties: { lua: { type: 'string', description: 'a Lua function expression: function(p) return p end' } },
      required: ['lua'],
      additionalProperties: false,
      description: 'a function written in Lua, run in the sandboxed Lua VM',
    },
    edge: {
      type: 'object',
      description: 'one to one: a link; one to many: a fan-out; many to one: a fan-in; errors: true routes error events',
      properties: {
        from: { $ref: '#/$defs/nodeNames' },
        to: { $ref: '#/$defs/nodeNames' },
        errors: { type: 'boolean', description: "route the error events of 'from' to 'to' (one target)" },
      },
      required: ['from', 'to'],
      additionalProperties: false,
    },
    node: {
      type: 'object',
      properties: {
        name: { $ref: '#/$defs/nodeName' },
        kind: { description: 'the node kind', anyOf: kinds.map((k) => ({ const: k.name, description: k.summary })) },
        options: { type: 'object', description: "the kind's options" },
      },
      required: ['name', 'kind'],
      additionalProperties: false,
      allOf: kinds.map((k) => ({
        if: { properties: { kind: { const: k.name } }, required: ['kind'] },
        then: {
          properties: { options: { $ref: `#/$defs/options.${k.name}` } },
          ...(Object.values(k.options).some((o) => o.required) ? { required: ['options'] } : {}),
        },
      })),
    },
  };
  for (const k of kinds) defs[`options.${k.name}`] = declarativeOptions(k);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Tributary network',
    description: 'A network of named nodes and the edges between them (tributary run network.yaml).',
    type: 'object',
    properties: {
      $schema: { type: 'string', description: 'this schema, for editors (tributary schema > network.schema.json)' },
      version: { const: 1, description: 'format version (1 when absent)' },
      nodes: { type: 'array', items: { $ref: '#/$defs/node' } },
      edges: { type: 'array', items: { $ref: '#/$defs/edge' } },
    },
    patternProperties: { '^x-': { description: 'anything: values for YAML anchors to refer to (x-defaults: &defaults …)' } },
    required: ['nodes'],
    additionalProperties: false,
    $defs: defs,
  };
}

/** A kind's option schema as files write it: functions as Lua, numbers and booleans also as `${VAR}`. */
function declarativeOptions(kind: NodeKind<any>): JsonSchema {
  const schema = optionsJsonSchema(kind.options);
  const properties = schema.properties as Record<string, JsonSchema>;
  for (const [name, o] of Object.entries(kind.options)) {
    const s = properties[name];
    if (o.type === 'function') {
      properties[name] = {
        description: s.description,
        anyOf: [{ type: 'string', description: 'a Lua function expression: function(p) return p end' }, { $ref: '#/$defs/lua' }],
      };
    } else if (o.type === 'number' || o.type === 'integer' || o.type === 'boolean') {
      const { description, ...rest } = s;
      properties[name] = { description, anyOf: [rest, { $ref: '#/$defs/envReference' }] };
    }
  }
  return { title: kind.name, description: kind.summary, ...schema };
}
