import { TributaryError } from '../errors';
import { suggest } from '../util/suggest';
import { isPlainObject } from '../util/values';
import type { EdgeDocument, NetworkDocument, NodeDocument } from './document';
import { located, type SourcePositions, type ValuePath } from './positions';

const TOP_FIELDS = ['$schema', 'version', 'nodes', 'edges'];
const NODE_FIELDS = ['name', 'kind', 'options'];
const EDGE_FIELDS = ['from', 'to', 'errors'];

/** Where a document came from, for messages. */
export interface DocumentSource {
  /** The file, as messages show it. */
  file?: string;
  /** Where each value was written (from `parseNetworkText`). */
  positions?: SourcePositions;
}

/**
 * Checks that a value (a parsed file, a translator's output) has the shape of a
 * {@link NetworkDocument}: `nodes` a list of `{ name, kind, options? }`, `edges` a list of
 * `{ from, to, errors? }`, nothing else (but `$schema`, for editors, and top-level `x-…`
 * fields, for YAML anchors). Errors start `file:line:column:` and name the field.
 *
 * @example
 * ```ts
 * const doc = checkDocument(parseNetworkText(text, 'network.yaml').value, { file: 'network.yaml' });
 * ```
 */
export function checkDocument(value: unknown, source: DocumentSource = {}): NetworkDocument {
  const fail = (path: ValuePath, message: string): never => {
    throw new TributaryError('BAD_OPTION', `${located(source.file, source.positions?.at(path))}: ${message}`);
  };
  if (!isPlainObject(value)) fail([], `a network file holds an object with 'nodes' and 'edges', got ${kindOf(value)}`);
  const top = value as Record<string, unknown>;
  // `x-…` fields hold what anchors refer to (`x-limits: &limits { … }`), as in Compose files.
  fields(top, TOP_FIELDS, [], 'a network', fail, (key) => key.startsWith('x-'));
  if (top.$schema !== undefined && typeof top.$schema !== 'string')
    fail(['$schema'], `'$schema' must be a string (the schema's path or URL)`);
  if (top.version !== undefined && top.version !== 1)
    fail(['version'], `unsupported version ${JSON.stringify(top.version)} (this is version 1)`);
  if (!Array.isArray(top.nodes)) fail(['nodes'], `'nodes' must be a list of { name, kind, options }, got ${kindOf(top.nodes)}`);
  if (top.edges !== undefined && !Array.isArray(top.edges))
    fail(['edges'], `'edges' must be a list of { from, to }, got ${kindOf(top.edges)}`);
  const nodes = (top.nodes as unknown[]).map((n, i): NodeDocument => {
    const at: ValuePath = ['nodes', i];
    if (!isPlainObject(n)) fail(at, `nodes[${i}] must be an object { name, kind, options }, got ${kindOf(n)}`);
    const node = n as Record<string, unknown>;
    fields(node, NODE_FIELDS, at, `nodes[${i}]`, fail);
    if (typeof node.name !== 'string' || node.name === '') fail([...at, 'name'], `nodes[${i}] needs a name (a non-empty string)`);
    const name = node.name as string;
    if (typeof node.kind !== 'string' || node.kind === '') fail([...at, 'kind'], `node '${name}' needs a kind (a string)`);
    if (node.options !== undefined && node.options !== null && !isPlainObject(node.options))
      fail([...at, 'options'], `node '${name}': options must be an object, got ${kindOf(node.options)}`);
    return {
      name,
      kind: node.kind as string,
      ...(isPlainObject(node.options) ? { options: node.options as Record<string, unknown> } : {}),
    };
  });
  const edges = ((top.edges as unknown[] | undefined) ?? []).map((e, i): EdgeDocument => {
    const at: ValuePath = ['edges', i];
    if (!isPlainObject(e)) fail(at, `edges[${i}] must be an object { from, to }, got ${kindOf(e)}`);
    const edge = e as Record<string, unknown>;
    fields(edge, EDGE_FIELDS, at, `edges[${i}]`, fail);
    const ends = (key: 'from' | 'to'): string | string[] => {
      const v = edge[key];
      if (typeof v === 'string' && v !== '') return v;
      if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '')) return v as string[];
      return fail([...at, key], `edges[${i}].${key} must be a node name or a non-empty list of node names, got ${kindOf(v)}`);
    };
    const from = ends('from');
    const to = ends('to');
    if (Array.isArray(from) && from.length > 1 && Array.isArray(to) && to.length > 1)
      fail(at, `edges[${i}] joins many to many: write a fan-out (one 'from') or a fan-in (one 'to')`);
    if (edge.errors !== undefined && typeof edge.errors !== 'boolean') fail([...at, 'errors'], `edges[${i}].errors must be true or false`);
    if (edge.errors === true && (Array.isArray(to) ? to.length : 1) > 1)
      fail([...at, 'to'], `edges[${i}] routes errors: name one target (error events go to one place)`);
    return { from, to, ...(edge.errors === true ? { errors: true } : {}) };
  });
  return { ...(top.version === 1 ? { version: 1 as const } : {}), nodes, edges };
}

function fields(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  at: ValuePath,
  what: string,
  fail: (path: ValuePath, message: string) => never,
  extension: (key: string) => boolean = () => false,
): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key) || extension(key)) continue;
    const hint = suggest(key, allowed);
    fail([...at, key], `${what}: unknown field '${key}' (fields: ${allowed.join(', ')})${hint ? ` — did you mean '${hint}'?` : ''}`);
  }
}

function kindOf(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
