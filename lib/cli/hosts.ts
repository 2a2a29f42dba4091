import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../errors';
import type { LuaRuntime } from '../lua/runtime';
import type { Network } from '../network/network';
import type { Registry } from '../nodes/registry';
import { CliError, EXIT } from './exit';

/** What the CLI hands the window store: entities (and other store options) hosts add. */
export interface WindowConfig {
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

function resolveModule(spec: string, cwd: string): string {
  const looksLikePath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?[jt]s$/.test(spec);
  try {
    return looksLikePath ? require.resolve(path.resolve(cwd, spec)) : require.resolve(spec, { paths: [cwd] });
  } catch {
    throw new CliError(EXIT.USAGE, `cannot find the host module '${spec}' (from ${cwd})`);
  }
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
  const file = resolveModule(spec, cwd);
  if (TS_EXTENSIONS.has(path.extname(file))) registerTsNode(file);
  let mod: Record<string, any>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : require(file);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `host module ${spec} failed to load: ${errorMessage(e)}`);
  }
  const setup = typeof mod.setup === 'function' ? mod.setup : mod.default?.setup;
  if (typeof setup !== 'function') {
    throw new CliError(EXIT.USAGE, `host module ${spec} exports no setup(host) function`);
  }
  return setup;
}
