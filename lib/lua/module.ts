import { TributaryError } from '../errors';
import { isPlainObject } from '../util/values';
import type { Network } from '../network/network';
import { luaSignature } from '../nodes/catalogue';
import type { NodeKind } from '../nodes/registry';

/** The Lua signature of a kind's `create_*` function (one definition, in the catalogue). */
export { luaSignature };

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The option a Lua key names: options are camelCase, and Lua's own style (`max_batch`) is
 * accepted for them, so scripts written for either spelling keep working.
 *
 * @example
 * ```ts
 * luaOptionKey(registry.get('window'), 'max_batch'); // 'maxBatch'
 * ```
 */
export function luaOptionKey(kind: NodeKind<any>, key: string): string {
  if (has(kind.options, key) || !key.includes('_')) return key;
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return has(kind.options, camel) ? camel : key;
}

/** A Lua options table with its keys as option names. */
function optionsTable(kind: NodeKind<any>, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(v)) {
    const key = luaOptionKey(kind, k);
    if (has(out, key)) throw new TributaryError('BAD_OPTION', `${luaSignature(kind)}: option '${key}' given twice (as '${k}' too)`);
    out[key] = value;
  }
  return out;
}

/** True when positional argument `i` may itself be a table (an object, list or any value). */
function takesTable(kind: NodeKind<any>, i: number): boolean {
  const p = kind.positional[i];
  return p !== undefined && ['object', 'array', 'any'].includes(kind.options[p].type);
}

/** True for a converted Lua table that is an options table of `kind`: every key one of its options. */
function isOptionsTable(kind: NodeKind<any>, v: unknown): v is Record<string, unknown> {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => has(kind.options, luaOptionKey(kind, k)));
}

/**
 * Maps the arguments a script passed after the node name to an options object. Accepted
 * forms: the original's positional arguments (`create_ticker("t", "500ms")`), one options
 * table (`create_ticker("t", { interval = "500ms" })`), or the positional arguments followed
 * by an options table for the rest (`create_map("m", fn, { concurrency = 4 })`).
 *
 * @example
 * ```ts
 * luaArgsToOptions(registry.get('ticker'), ['500ms']);               // { interval: '500ms' }
 * luaArgsToOptions(registry.get('ticker'), [{ interval: '500ms' }]); // { interval: '500ms' }
 * ```
 */
export function luaArgsToOptions(kind: NodeKind<any>, rawArgs: readonly unknown[]): Record<string, unknown> {
  const args = [...rawArgs];
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  const positional = kind.positional;
  // A table where the first argument cannot be one is an options table, misspelt keys and all
  // (so resolving it names the unknown option and suggests the right one).
  if (args.length === 1 && isPlainObject(args[0]) && (isOptionsTable(kind, args[0]) || !takesTable(kind, 0))) {
    return optionsTable(kind, args[0]);
  }
  if (args.length === 1 && Array.isArray(args[0]) && args[0].length === 0) {
    // `{}` converts to [] — an empty options table unless the first positional takes a list.
    const first = positional.length > 0 ? kind.options[positional[0]].type : undefined;
    if (first !== 'array' && first !== 'any') return {};
  }
  let extra: Record<string, unknown> = {};
  if (args.length > positional.length) {
    const last = args[args.length - 1];
    if (args.length === positional.length + 1 && isPlainObject(last) && Object.keys(last).length > 0) {
      extra = optionsTable(kind, last);
      args.pop();
    } else {
      throw new TributaryError(
        'BAD_OPTION',
        `${luaSignature(kind)} takes ${positional.length === 0 ? 'no arguments' : `at most ${positional.length} argument${positional.length > 1 ? 's' : ''}`} after the name` +
          ` (or one options table), got ${args.length}` +
          optionsHint(kind),
      );
    }
  }
  const options = extra;
  positional.forEach((p, i) => {
    if (args[i] === undefined) return;
    if (p in extra)
      throw new TributaryError('BAD_OPTION', `${luaSignature(kind)}: '${p}' given both as argument ${i + 2} and in the options table`);
    options[p] = args[i];
  });
  return options;
}

function optionsHint(kind: NodeKind<any>): string {
  const names = Object.keys(kind.options);
  return names.length ? ` (options: ${names.join(', ')})` : '';
}

function nodeName(fn: string, arg: number, label: string, value: unknown): string {
  if (typeof value !== 'string') {
    const got =
      value === undefined ? 'nil' : Array.isArray(value) || typeof value === 'object' ? 'a table' : `${typeof value} ${String(value)}`;
    throw new TributaryError('BAD_OPTION', `bad argument #${arg} to '${fn}' (${label}: node name expected, got ${got})`);
  }
  return value;
}

/**
 * The network functions every `tributary` module has besides `create_*`: `link`, `fanout`,
 * `fanin`, `node_exists` (the original's) and `route_errors`. Each raises an error naming
 * the problem instead of returning `false`, and returns `true` on success like the original.
 *
 * @example
 * ```ts
 * const fns = coreExports(net);
 * fns.link('ticker_500ms', 'forwarder1'); // true
 * ```
 */
export function coreExports(network: Network): Record<string, (...args: unknown[]) => unknown> {
  return {
    link(from, to) {
      network.link(nodeName('link', 1, 'from', from), nodeName('link', 2, 'to', to));
      return true;
    },
    fanout(from, ...targets) {
      network.fanout(nodeName('fanout', 1, 'from', from), ...targets.map((t, i) => nodeName('fanout', i + 2, 'to', t)));
      return true;
    },
    fanin(to, ...sources) {
      network.fanin(nodeName('fanin', 1, 'to', to), ...sources.map((s, i) => nodeName('fanin', i + 2, 'from', s)));
      return true;
    },
    node_exists(name) {
      return network.exists(nodeName('node_exists', 1, 'name', name));
    },
    route_errors(from, to) {
      network.routeErrors(nodeName('route_errors', 1, 'from', from), nodeName('route_errors', 2, 'to', to));
      return true;
    },
  };
}

/**
 * Checks the node name argument of a `create_*` call.
 *
 * @example
 * ```ts
 * createName(registry.get('ticker'), 42); // throws "bad argument #1 to 'create_ticker' (name: node name expected, got number 42)"
 * ```
 */
export function createName(kind: NodeKind<any>, name: unknown): string {
  return nodeName(`create_${kind.name}`, 1, 'name', name);
}
