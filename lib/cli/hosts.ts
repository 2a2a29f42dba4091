import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../errors';
import type { LuaRuntime } from '../lua/runtime';
import type { Network } from '../network/network';
import type { LazyPlugin, Plugin } from '../nodes/plugin';
import type { Registry } from '../nodes/registry';
import { CliError, EXIT } from './exit';

/** What the CLI hands the window store: the URL from --db, entities (and other store options) hosts add. */
export interface WindowConfig {
  /** Window database URL (`--db`); default `sqlite::memory:`. */
  url?: string;
  /** TypeORM entities (decorated classes or `EntitySchema`) the window database must have. */
  entities: unknown[];
  [option: string]: unknown;
}

/**
 * What a host module's `setup(host)` receives: the place where the Go example's `main.go`
 * code lives in our world.
 */
export interface HostContext {
  readonly network: Network;
  readonly runtime: LuaRuntime;
  readonly registry: Registry;
  readonly windows: WindowConfig;
  /**
   * Set under `tributary test` (the case's `seed`): a host module's random sources should
   * take it, so that a test gives the same result every run.
   */
  readonly seed?: number;
}

/** The shape `--require` modules export. */
export interface HostModule {
  setup(host: HostContext): void | Promise<void>;
}

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);
let tsNodeRegistered = false;

function registerTsNode(file: string): void {
  if (tsNodeRegistered) return;
  let tsNode: { register(options: object): unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    tsNode = require('ts-node');
  } catch {
    throw new CliError(
      EXIT.USAGE,
      `cannot load the TypeScript host module ${file}: ts-node is not installed (npm install --save-dev ts-node), or compile the module to JavaScript`,
    );
  }
  tsNode.register({ transpileOnly: true });
  tsNodeRegistered = true;
}

function resolveModule(spec: string, cwd: string, what: string): string {
  const looksLikePath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?[jt]s$/.test(spec);
  try {
    return looksLikePath ? require.resolve(path.resolve(cwd, spec)) : require.resolve(spec, { paths: [cwd] });
  } catch {
    throw new CliError(EXIT.USAGE, `cannot find the ${what} '${spec}' (from ${cwd})`);
  }
}

/**
 * The package's entry points as this running copy of Tributary has them. Static requires, so
 * in the bundled CLI (dist/cli.js) they are the bundle's own modules; each loads on first use.
 */
const SELF_ENTRIES: Record<string, () => unknown> = {
  /* eslint-disable @typescript-eslint/no-require-imports -- the running copy's own modules, on demand */
  tributary: () => require('../index'),
  'tributary/lua': () => require('../lua/index'),
  'tributary/windows': () => require('../windows/index'),
  'tributary/connectors': () => require('../connectors/index'),
  'tributary/plugins': () => require('../plugins'),
  'tributary/testing': () => require('../testing/index'),
  /* eslint-enable @typescript-eslint/no-require-imports */
};
let selfResolving = false;

/**
 * Makes `require('tributary')` in plugins and host modules return this running copy, so they
 * share its registry, error classes and schedulers (a plugin outside the project, or one with
 * its own copy installed, would otherwise get a second, separate Tributary).
 */
function resolveTributaryToSelf(): void {
  if (selfResolving) return;
  selfResolving = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Module._load is not in node:module's typings
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = Module._load;
  Module._load = function (this: unknown, request: string, ...rest: unknown[]): unknown {
    const entry = SELF_ENTRIES[request];
    return entry ? entry() : original.call(this, request, ...rest);
  };
}

/** Loads a module by path or package name: JavaScript, ESM (`.mjs`) or TypeScript through ts-node. */
async function loadModule(spec: string, cwd: string, what: string): Promise<Record<string, any>> {
  resolveTributaryToSelf();
  const file = resolveModule(spec, cwd, what);
  if (TS_EXTENSIONS.has(path.extname(file))) registerTsNode(file);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `${what} ${spec} failed to load: ${errorMessage(e)}`);
  }
}

function isPluginLike(v: unknown): v is Plugin | LazyPlugin {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { name?: unknown }).name === 'string' &&
    ('kinds' in v || 'luaExports' in v || 'services' in v)
  );
}

/**
 * Loads a `--plugin` module (a path or an npm package name; JS, ESM or TS) and returns the
 * plugins it exports: its default export, or an export named `plugin` or `plugins`, each a
 * plugin made by `definePlugin` or a list of them.
 *
 * @example
 * ```ts
 * for (const p of await loadPluginModule('./examples/plugin/index.ts', process.cwd())) registry.use(p);
 * ```
 */
export async function loadPluginModule(spec: string, cwd: string): Promise<(Plugin | LazyPlugin)[]> {
  const mod = await loadModule(spec, cwd, 'plugin');
  const candidates = [mod.default, mod.plugin, mod.plugins, mod.default?.default, mod];
  for (const c of candidates) {
    if (isPluginLike(c)) return [c];
    if (Array.isArray(c) && c.length > 0 && c.every(isPluginLike)) return c;
  }
  throw new CliError(
    EXIT.USAGE,
    `plugin ${spec} exports no plugin (export default definePlugin({ name, kinds, … }), or an export named 'plugin' or 'plugins')`,
  );
}

/**
 * Loads a `--require` host module (JavaScript, or TypeScript through ts-node) and returns
 * its `setup` function (`module.setup` or `module.default.setup`).
 *
 * @example
 * ```ts
 * const setup = await loadHostModule('./host.ts', process.cwd());
 * await setup({ network, runtime, registry, windows: { entities: [] } });
 * ```
 */
export async function loadHostModule(spec: string, cwd: string): Promise<HostModule['setup']> {
  const mod = await loadModule(spec, cwd, 'host module');
  const setup = typeof mod.setup === 'function' ? mod.setup : mod.default?.setup;
  if (typeof setup !== 'function') {
    throw new CliError(EXIT.USAGE, `host module ${spec} exports no setup(host) function`);
  }
  return setup;
}
