import { TributaryError, errorMessage } from '../errors';
import type { Network } from '../network/network';
import type { OptionSpec } from '../nodes/options';
import type { NodeKind } from '../nodes/registry';
import { suggest } from '../util/suggest';
import { isPlainObject } from '../util/values';
import type { NetworkDocument } from './document';
import { expandEnv, type EnvUse } from './env';
import { located, type SourcePositions, type ValuePath } from './positions';
import { checkDocument } from './shape';

/**
 * What makes the nodes when a Lua runtime is at hand (the CLI's): nodes are created the way
 * a script's `create_<kind>` creates them (sandbox rules, test substitutions), and options
 * that take a function may be written as Lua source. `LuaRuntime` is one.
 */
export interface DocumentRuntime {
  create(kind: string, name: string, options?: Record<string, unknown>, shown?: Record<string, unknown>): void;
  nodeFunction(source: string, where: { file: string; line: number; node: string }): (...args: unknown[]) => unknown;
}

/** Options of {@link buildFromDocument}. */
export interface BuildOptions {
  /** The file the document came from, as messages show it. */
  file?: string;
  /** Where each value was written (`parseNetworkText`), for `file:line:column` in messages. */
  positions?: SourcePositions;
  /** Where `${VAR}` references are looked up; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Create nodes through a Lua runtime (see {@link DocumentRuntime}); default `network.create`. */
  runtime?: DocumentRuntime;
}

/** What {@link buildFromDocument} did. */
export interface BuildResult {
  /** The nodes it created, in order. */
  nodes: string[];
  /** Values put in by `${VAR}` references (but short ones, numbers and booleans): hide them from logs (they may be secrets). */
  secrets: string[];
}

/**
 * Whether a value put in from the environment is hidden from messages and logs. Values under
 * 3 characters, plain numbers and booleans are not: replacing every `1`, `256` or `true` would
 * garble messages and break JSON log lines, and a secret is none of these.
 */
function hidden(value: string): boolean {
  return value.length >= 3 && !/^[-+]?\d+(\.\d+)?$/.test(value) && value !== 'true' && value !== 'false';
}

/**
 * Builds a {@link NetworkDocument} onto a network: every node with `net.create(kind, name,
 * options)` (the registry, option validation and defaults Lua and TypeScript use), then the
 * edges — one to one a `link`, one to many a `fanout`, many to one a `fanin`, `errors: true`
 * a `routeErrors`. Option strings may reference the environment (`${NATS_TOKEN}`,
 * `${PORT:-4222}`); `describe()` and every message keep the reference, never the value. An
 * option that takes a function may be Lua source (`function(p) return p * 2 end`), given a
 * runtime. Errors are `TributaryError`s starting `file:line:column:` and naming the node.
 *
 * @example
 * ```ts
 * const { value, positions } = parseNetworkText(fs.readFileSync('network.yaml', 'utf8'), 'network.yaml');
 * const net = new Network({ plugins: builtinPlugins() });
 * buildFromDocument(net, value as NetworkDocument, { file: 'network.yaml', positions });
 * await net.start();
 * ```
 */
export function buildFromDocument(net: Network, document: NetworkDocument, options: BuildOptions = {}): BuildResult {
  const { file, positions } = options;
  const env = options.env ?? process.env;
  const doc = checkDocument(document, { file, positions });
  const where = (path: ValuePath) => located(file, positions?.at(path));
  const used: EnvUse[] = [];
  const scrub = (text: string) => {
    let out = text;
    for (const u of used) if (hidden(u.value)) out = out.split(u.value).join(`\${${u.name}}`);
    return out;
  };
  const fail = (path: ValuePath, message: string, code: TributaryError['code'] = 'BAD_OPTION', cause?: unknown): never => {
    const clean = scrub(message);
    // The cause keeps the value a reference put in: it goes only with a message that had none.
    throw new TributaryError(code, `${where(path)}: ${clean}`, cause === undefined || clean !== message ? undefined : { cause });
  };

  const seen = new Map<string, number>();
  doc.nodes.forEach((n, i) => {
    const first = seen.get(n.name);
    if (first !== undefined) {
      const at = positions?.at(['nodes', first]);
      fail(['nodes', i, 'name'], `node '${n.name}' is defined twice${at ? ` (first at line ${at.line})` : ''}`, 'DUPLICATE_NODE');
    }
    if (net.exists(n.name)) fail(['nodes', i, 'name'], `node '${n.name}' already exists`, 'DUPLICATE_NODE');
    seen.set(n.name, i);
  });

  const created: string[] = [];
  doc.nodes.forEach((n, i) => {
    const at: ValuePath = ['nodes', i];
    let kind: NodeKind<any>;
    try {
      kind = net.registry.get(n.kind);
    } catch (e) {
      return fail([...at, 'kind'], `node '${n.name}': ${errorMessage(e)}`, 'UNKNOWN_KIND', e);
    }
    const raw = n.options ?? {};
    const resolved: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      const path: ValuePath = [...at, 'options', key];
      const spec: OptionSpec | undefined = Object.prototype.hasOwnProperty.call(kind.options, key) ? kind.options[key] : undefined;
      try {
        resolved[key] = optionValue(value, spec, {
          env,
          used,
          node: n.name,
          key,
          runtime: options.runtime,
          file: file ?? '<network>',
          line: positions?.valueLine(isPlainObject(value) && 'lua' in value ? [...path, 'lua'] : path),
        });
      } catch (e) {
        fail(path, `node '${n.name}': option '${key}': ${errorMessage(e)}`, e instanceof TributaryError ? e.code : 'BAD_OPTION', e);
      }
    }
    try {
      if (options.runtime) options.runtime.create(n.kind, n.name, resolved, raw);
      else net.create(n.kind, n.name, resolved, raw);
    } catch (e) {
      const message = errorMessage(e);
      const named = /option '([^']+)'/.exec(message)?.[1];
      const path = named && Object.prototype.hasOwnProperty.call(raw, named) ? [...at, 'options', named] : named ? [...at, 'options'] : at;
      const text = message.startsWith(`node '${n.name}'`) ? message : `node '${n.name}': ${message}`;
      fail(path, text, e instanceof TributaryError ? e.code : 'BAD_OPTION', e);
    }
    created.push(n.name);
  });

  doc.edges.forEach((edge, i) => {
    const at: ValuePath = ['edges', i];
    const froms = typeof edge.from === 'string' ? [edge.from] : edge.from;
    const tos = typeof edge.to === 'string' ? [edge.to] : edge.to;
    const check = (names: string[], key: 'from' | 'to') =>
      names.forEach((name, j) => {
        if (net.exists(name)) return;
        const known = Object.keys(net.edges());
        const hint = suggest(name, known);
        fail(
          typeof edge[key] === 'string' ? [...at, key] : [...at, key, j],
          `edges[${i}]: no node '${name}'${hint ? ` — did you mean '${hint}'?` : ''}`,
          'UNKNOWN_NODE',
        );
      });
    check(froms, 'from');
    check(tos, 'to');
    try {
      if (edge.errors) net.routeErrors(froms[0], tos[0]);
      else if (froms.length === 1) net.fanout(froms[0], ...tos);
      else net.fanin(tos[0], ...froms);
    } catch (e) {
      fail(at, `edges[${i}]: ${errorMessage(e)}`, e instanceof TributaryError ? e.code : 'BAD_LINK', e);
    }
  });

  return { nodes: created, secrets: [...new Set(used.map((u) => u.value))].filter(hidden) };
}

interface ValueContext {
  env: Readonly<Record<string, string | undefined>>;
  used: EnvUse[];
  node: string;
  key: string;
  runtime?: DocumentRuntime;
  file: string;
  line?: number;
}

/** One option's value as written, made ready for the kind: references expanded, Lua source compiled. */
function optionValue(value: unknown, spec: OptionSpec | undefined, ctx: ValueContext): unknown {
  const source = luaSource(value, spec);
  if (source !== undefined) {
    if (!ctx.runtime) {
      throw new TributaryError(
        'BAD_OPTION',
        'Lua source for a function needs a Lua runtime (buildFromDocument(net, doc, { runtime })); the tributary command gives one',
      );
    }
    return ctx.runtime.nodeFunction(source, { file: ctx.file, line: ctx.line ?? 1, node: ctx.node });
  }
  if (typeof value === 'string' && value.includes('${') && spec && ['number', 'integer', 'boolean'].includes(spec.type)) {
    const ex = expandEnv(value, ctx.env);
    ctx.used.push(...ex.used);
    if (!ex.whole) return ex.text; // the kind's check reports "must be a number"
    return typed(ex.text, spec, ex.used[0]?.name ?? ex.text);
  }
  return expandDeep(value, ctx);
}

/**
 * The Lua source an option value stands for, if it is one: a string for an option that takes
 * a function, or `{ lua: "…" }` for one that takes a function or anything (`sink`'s `fn`).
 */
function luaSource(value: unknown, spec: OptionSpec | undefined): string | undefined {
  if (spec?.type === 'function' && typeof value === 'string') return value;
  if ((spec?.type === 'function' || spec?.type === 'any') && isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'lua' && typeof value.lua === 'string') return value.lua;
  }
  return undefined;
}

function typed(text: string, spec: OptionSpec, variable: string): unknown {
  if (spec.type === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new TributaryError('BAD_OPTION', `environment variable '${variable}' must be true or false for this option`);
  }
  const n = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(n)) throw new TributaryError('BAD_OPTION', `environment variable '${variable}' must be a number for this option`);
  return n;
}

function expandDeep(value: unknown, ctx: ValueContext, depth = 0): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    const ex = expandEnv(value, ctx.env);
    ctx.used.push(...ex.used);
    return ex.text;
  }
  if (depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, ctx, depth + 1));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandDeep(v, ctx, depth + 1);
    return out;
  }
  return value;
}
