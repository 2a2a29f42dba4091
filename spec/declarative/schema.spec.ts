import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { createRegistry } from '../../lib/nodes/index';
import { builtinPlugins } from '../../lib/plugins';
import { networkJsonSchema } from '../../lib/declarative/schema';
import { validate } from './json-schema-check';

const registry = createRegistry({ plugins: builtinPlugins() });
const schema = networkJsonSchema(registry);
const check = (doc: unknown) => validate(schema, doc);

describe('the JSON Schema of network files', () => {
  it('accepts the example files', () => {
    for (const file of ['examples/declarative/network.yaml', 'examples/declarative/pipeline.yaml']) {
      expect([file, check(parse(readFileSync(file, 'utf8')))]).toEqual([file, []]);
    }
  });

  it('has one options schema per kind, from its declaration (built-in plugins included)', () => {
    const defs = schema.$defs as Record<string, { title: string; required?: string[]; properties: Record<string, unknown> }>;
    for (const name of registry.names()) expect(defs[`options.${name}`]?.title).toBe(name);
    expect(defs['options.ticker'].required).toEqual(['interval']);
    expect(Object.keys(defs['options.file_sink'].properties)).toEqual(Object.keys(registry.get('file_sink').options));
  });

  it('refuses what the builder refuses: unknown kinds, fields and options, wrong types, missing required options', () => {
    const node = (n: Record<string, unknown>) => ({ nodes: [{ name: 'a', ...n }] });
    expect(check(node({ kind: 'tickr', options: { interval: '1s' } }))).toContain('$.nodes[0].kind: matches none of anyOf');
    expect(check(node({ kind: 'ticker', options: { intervall: '1s' } }))).toEqual(
      expect.arrayContaining(["$.nodes[0].options: unknown property 'intervall'", "$.nodes[0].options: missing 'interval'"]),
    );
    expect(check(node({ kind: 'ticker' }))).toContain("$.nodes[0]: missing 'options'");
    expect(check(node({ kind: 'ticker', options: { interval: '5 parsecs' } }))).toContain(
      '$.nodes[0].options.interval: matches none of anyOf',
    );
    expect(check(node({ kind: 'tester', options: { indicator: 3 } }))).toContain(
      '$.nodes[0].options.indicator: must be string, is integer',
    );
    expect(check(node({ kind: 'map', options: { fn: 3 } }))).toContain('$.nodes[0].options.fn: matches none of anyOf');
    expect(check({ nodes: [], edgs: [] })).toContain("$: unknown property 'edgs'");
    expect(check({ 'x-defaults': { interval: '1s' }, nodes: [] })).toEqual([]);
    expect(check({ nodes: [], edges: [{ from: 'a' }] })).toContain("$.edges[0]: missing 'to'");
    expect(check({ nodes: [{ kind: 'forwarder' }] })).toContain("$.nodes[0]: missing 'name'");
  });

  it('accepts Lua functions, ${VAR} for numbers and booleans, fan-out and fan-in edges', () => {
    expect(
      check({
        version: 1,
        nodes: [
          { name: 'in', kind: 'stdin_source', options: { maxInFlight: '${IN_FLIGHT:-64}' } },
          { name: 'm', kind: 'map', options: { fn: 'function(p) return p end', concurrency: 4 } },
          { name: 'w', kind: 'where', options: { fn: { lua: 'function(p) return true end' } } },
          { name: 'out', kind: 'sink', options: { fn: { lua: 'function(p) end' } } },
          { name: 'f', kind: 'file_sink', options: { path: '${OUT}', fsync: '${FSYNC}' } },
        ],
        edges: [
          { from: 'in', to: ['m', 'w'] },
          { from: ['m', 'w'], to: 'out' },
          { from: 'm', to: 'f', errors: true },
        ],
      }),
    ).toEqual([]);
    expect(check({ nodes: [{ name: 'f', kind: 'file_sink', options: { path: 'x', fsync: '${FSYNC' } }] })).toContain(
      '$.nodes[0].options.fsync: matches none of anyOf',
    );
  });
});
