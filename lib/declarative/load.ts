import { readFileSync } from 'node:fs';
import { TributaryError, errorMessage } from '../errors';
import { displayPath } from '../lua/require';
import type { Network } from '../network/network';
import { isPlainObject } from '../util/values';
import { buildFromDocument, type BuildOptions, type BuildResult, type DocumentRuntime } from './build';
import type { NetworkDocument } from './document';
import { parseNetworkText } from './parse';
import type { SourcePositions } from './positions';

/** The file name endings of declarative network files. */
export const NETWORK_FILE = /\.(ya?ml|json)$/i;

/** The top-level fields that mark an agglo config (its protobuf `PipelineConfig`). */
export const AGGLO_FIELDS = ['pipelines', 'processDefinitions', 'partitionUuid'] as const;

/** The module that translates agglo configs, relative to this one (the agglo plugin's). */
const AGGLO_MODULE = '../agglo/config';

/** What an agglo translator module exports. */
export interface AggloTranslator {
  /**
   * The network equivalent to an agglo config. `positions` tells where each value of the
   * config was written (`positions.at(['pipelines', 0, 'name'])`); a translator that wants the
   * builder's errors to carry lines returns `{ document, positions }` with positions keyed by
   * the document's own paths (`['nodes', 3, 'options', 'url']`), else the bare document.
   */
  aggloToDocument(
    config: unknown,
    options: { file: string; env: Readonly<Record<string, string | undefined>>; positions?: SourcePositions },
  ): NetworkDocument | { document: NetworkDocument; positions?: SourcePositions };
}

/** Options of {@link loadNetworkFile}. */
export interface LoadOptions extends Omit<BuildOptions, 'file' | 'positions'> {
  /** The module whose `aggloToDocument` translates agglo configs; default the agglo plugin's. */
  aggloModule?: string;
  /** More options for `aggloToDocument` (the agglo plugin's: input, output, connections …). */
  agglo?: Record<string, unknown>;
}

/**
 * True for a file name a declarative network is read from (`.yaml`, `.yml`, `.json`);
 * anything else is a Lua script.
 *
 * @example
 * ```ts
 * isNetworkFile('network.yaml'); // true
 * isNetworkFile('network.lua');  // false
 * ```
 */
export function isNetworkFile(file: string): boolean {
  return NETWORK_FILE.test(file);
}

/**
 * True when a parsed file is an agglo config rather than a Tributary network: its top level
 * has `pipelines`, `processDefinitions` or `partitionUuid`.
 *
 * @example
 * ```ts
 * isAggloConfig({ partitionUuid: '…', pipelines: [] }); // true
 * isAggloConfig({ nodes: [], edges: [] });               // false
 * ```
 */
export function isAggloConfig(value: unknown): boolean {
  return isPlainObject(value) && AGGLO_FIELDS.some((f) => Object.prototype.hasOwnProperty.call(value, f));
}

/**
 * Builds a declarative network file onto a network: a Tributary network (YAML or JSON, see
 * `docs/pipelines.md`) or an agglo config, recognised by its top level and translated by the
 * agglo plugin's `aggloToDocument`. Errors start `file:line:column:`.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: builtinPlugins() });
 * const runtime = new LuaRuntime(net);
 * loadNetworkFile(net, 'examples/declarative/network.yaml', { runtime });
 * await net.start();
 * ```
 */
export function loadNetworkFile(net: Network, file: string, options: LoadOptions = {}): BuildResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new TributaryError('SCRIPT', `cannot read network file ${file}: ${errorMessage(e)}`, { cause: e });
  }
  return loadNetworkText(net, text, displayPath(file), options);
}

/**
 * {@link loadNetworkFile} for text already read; `file` is how messages name it.
 *
 * @example
 * ```ts
 * loadNetworkText(net, 'nodes: [{ name: t, kind: ticker, options: { interval: 1s } }]', 'inline.yaml');
 * ```
 */
export function loadNetworkText(net: Network, text: string, file: string, options: LoadOptions = {}): BuildResult {
  const { aggloModule, agglo, ...build } = options;
  const { value, positions } = parseNetworkText(text, file);
  if (!isAggloConfig(value)) return buildFromDocument(net, value as NetworkDocument, { ...build, file, positions });
  const translator = aggloTranslator(aggloModule);
  // An agglo config is the operator's own configuration: its local files (tees, file stores)
  // are what it is for, so they need no --allow-files (running programs still needs --allow-exec).
  const runtime = build.runtime;
  if (runtime && typeof (runtime as { createWithFiles?: unknown }).createWithFiles === 'function') {
    const trusted = runtime as DocumentRuntime & { createWithFiles: DocumentRuntime['create'] };
    build.runtime = { create: (...a) => trusted.createWithFiles(...a), nodeFunction: (...a) => trusted.nodeFunction(...a) };
  }
  const env = build.env ?? process.env;
  let translated: ReturnType<AggloTranslator['aggloToDocument']>;
  try {
    translated = translator.aggloToDocument(value, { ...agglo, file, env, positions });
  } catch (e) {
    if (e instanceof TributaryError) throw e;
    throw new TributaryError('BAD_OPTION', `${file}: ${errorMessage(e)}`, { cause: e });
  }
  if (isPlainObject(translated) && 'document' in translated) {
    const { document, positions: at } = translated;
    return buildFromDocument(net, document, { ...build, env, file, ...(at ? { positions: at } : {}) });
  }
  return buildFromDocument(net, translated, { ...build, env, file });
}

function aggloTranslator(module: string | undefined): AggloTranslator {
  const loaded = module === undefined ? bundledTranslator() : requireTranslator(module);
  if (loaded === undefined) {
    throw new TributaryError(
      'UNKNOWN_KIND',
      'this is an agglo config (it has pipelines, processDefinitions or partitionUuid): agglo configs need the agglo plugin, which this build lacks',
    );
  }
  if (typeof loaded.aggloToDocument !== 'function') {
    throw new TributaryError(
      'UNKNOWN_KIND',
      `agglo configs need the agglo plugin: ${module ?? AGGLO_MODULE} exports no aggloToDocument(config, { file, env })`,
    );
  }
  return loaded as AggloTranslator;
}

/** The agglo plugin's translator, or undefined when this build has none. */
function bundledTranslator(): Partial<AggloTranslator> | undefined {
  try {
    // A literal path inside try: the CLI bundler includes the module when it exists and
    // leaves the require alone when it does not.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for an agglo config
    return require('../agglo/config') as Partial<AggloTranslator>;
  } catch (e) {
    if (isMissing(e, AGGLO_MODULE.slice(3))) return undefined;
    throw e;
  }
}

function requireTranslator(module: string): Partial<AggloTranslator> | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a translator module named by the caller
    return require(module) as Partial<AggloTranslator>;
  } catch (e) {
    if (isMissing(e, module)) return undefined;
    throw e;
  }
}

/** True when `e` says the module itself is missing (not one it requires). */
function isMissing(e: unknown, module: string): boolean {
  return (e as { code?: string }).code === 'MODULE_NOT_FOUND' && errorMessage(e).split('\n')[0].includes(module);
}
