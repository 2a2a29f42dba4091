import * as path from 'node:path';
import { parseDuration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import { isNetworkFile, loadNetworkFile, loadNetworkText } from '../declarative/load';
import { LuaRuntime, type LuaRuntimeOptions } from '../lua/runtime';
import type { OpsServerOptions } from '../observe/server';
import { Network, type NetworkOptions } from '../network/network';
import { createRegistry } from '../nodes/index';
import type { Registry } from '../nodes/registry';
import type { Logger } from '../nodes/types';
import { builtinPlugins } from '../plugins';
import { CliError, EXIT } from './exit';
import { loadHostModule, loadPluginModule, type HostContext, type WindowConfig } from './hosts';

/** The service a network provides when its nodes may run executables (`--allow-exec`). */
export const ALLOW_EXEC_SERVICE = 'tributary.allow-exec';

/** What every command that reads scripts accepts. */
export interface SessionOptions {
  /** Host modules (`--require`), loaded in order before the scripts. */
  requires?: string[];
  /** Plugin modules or packages (`--plugin`), added to the registry before the host modules run. */
  plugins?: string[];
  /** Window database URL (`--db`). */
  db?: string;
  /** False for `--no-sandbox`. */
  sandbox?: boolean;
  /** `--allow-files`: sandboxed scripts may create file sources and sinks. */
  allowFiles?: boolean;
  /** `--allow-exec`: nodes may run local executables (agglo's spawn processes). */
  allowExec?: boolean;
  /** Directory host modules are resolved from; default the working directory. */
  cwd?: string;
  /** Longest a script may run (`--script-timeout`, Go syntax or ms); default 30 s. */
  scriptTimeout?: string;
  /** How long `stop()` waits for the drain (`--drain-timeout`); default the network's 30 s. */
  drainTimeout?: string;
  /** The operations port (`--http`): metrics, health, the live page. */
  http?: OpsServerOptions;
  /**
   * For `tributary test`: how the network is made (a virtual scheduler, nodes replaced or
   * recorded), extra Lua runtime options (captured output, virtual clock, seeded random) and
   * the seed host modules see as `host.seed`.
   */
  virtual?: {
    network(options: NetworkOptions): Network;
    runtime?: Partial<LuaRuntimeOptions>;
    seed?: number;
  };
  /** Makes the network instead of `new Network(options)` (the run modes' `FeedNetwork`). */
  makeNetwork?(options: NetworkOptions): Network;
  /** The network's logger (`run` passes its pino logger); default the network's stderr text. */
  logger?: Logger;
  /**
   * Receives the values declarative files put in with `${VAR}` references (they may be
   * secrets): `run` hands the same list to its logger, which hides them.
   */
  secrets?: string[];
  /** Where `${VAR}` references of declarative files are looked up; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** More options for the agglo plugin's translator of agglo configs (input, output, connections …). */
  agglo?: Record<string, unknown>;
  /** Checkpoints of keyed state (`run --state-store`): the opened store and the interval. */
  state?: NetworkOptions['state'];
  /** The partition the network owns in a group run (`run --group`, `agent`): nodes see `ctx.partition`. */
  partition?: NetworkOptions['partition'];
}

/**
 * A script given as text instead of a path (a deployed script): `name` is how errors call it
 * (`name:line:`); `format` says how it is read (`lua`, or a declarative network or agglo config).
 */
export interface ScriptText {
  readonly name: string;
  readonly source: string;
  readonly format: 'lua' | 'yaml' | 'json' | 'agglo';
}

/** A network built from scripts, not yet started, with what must be closed after it. */
export interface Session {
  readonly network: Network;
  readonly runtime: LuaRuntime;
  readonly registry: Registry;
  /** Frees the Lua VM (services the network opened close when it stops). */
  close(): Promise<void>;
}

/**
 * Loads the host modules (`setup(host)`), then the node registry and runtime they extended;
 * loads the host modules only, for `tributary nodes`.
 *
 * @example
 * ```ts
 * const { registry } = await loadHosts({ requires: ['./host.js'] });
 * ```
 */
export async function loadHosts(options: SessionOptions, scripts: string[] = []): Promise<HostContext> {
  const cwd = options.cwd ?? process.cwd();
  // The window store opens when a network with a window node starts, from this config: the
  // URL from --db, entities and tables that host modules and scripts add until then.
  if (options.db !== undefined) checkDb(options.db);
  const windows: WindowConfig = { entities: [], ...(options.db !== undefined ? { url: options.db } : {}) };
  const registry = createRegistry({ plugins: builtinPlugins({ windows }) });
  for (const spec of options.plugins ?? []) {
    for (const plugin of await loadPluginModule(spec, cwd)) {
      try {
        registry.use(plugin);
      } catch (e) {
        throw new CliError(EXIT.USAGE, `--plugin ${spec}: ${errorMessage(e)}`);
      }
    }
  }
  let network: Network;
  try {
    const networkOptions: NetworkOptions = {
      registry,
      ...(options.drainTimeout !== undefined ? { drainTimeout: options.drainTimeout } : {}),
      ...(options.http !== undefined ? { http: options.http } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.state !== undefined ? { state: options.state } : {}),
      ...(options.partition !== undefined ? { partition: options.partition } : {}),
    };
    network = options.virtual
      ? options.virtual.network(networkOptions)
      : options.makeNetwork
        ? options.makeNetwork(networkOptions)
        : new Network(networkOptions);
  } catch (e) {
    throw new CliError(
      EXIT.USAGE,
      errorMessage(e).replace('drainTimeout', '--drain-timeout').replace("option 'state.checkpointInterval'", '--checkpoint-interval'),
    );
  }
  // Nodes that run executables look this service up when they start (lib/agglo/exec.ts).
  if (options.allowExec === true) network.provide(ALLOW_EXEC_SERVICE, true);
  // Scripts may require Lua modules kept next to them, even in the sandbox.
  const luaPath = [...new Set(scripts.map((s) => path.dirname(path.resolve(s))))];
  let scriptTimeout: number;
  try {
    scriptTimeout = parseDuration(options.scriptTimeout ?? '30s', '--script-timeout');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  const runtime = new LuaRuntime(network, {
    sandbox: options.sandbox !== false,
    allowFiles: options.allowFiles === true,
    luaPath,
    scriptTimeout,
    ...options.virtual?.runtime,
  });
  const host: HostContext = {
    network,
    runtime,
    registry,
    windows,
    ...(options.virtual?.seed !== undefined ? { seed: options.virtual.seed } : {}),
  };
  try {
    for (const spec of options.requires ?? []) {
      const setup = await loadHostModule(spec, cwd);
      try {
        await setup(host);
      } catch (e) {
        throw new CliError(EXIT.USAGE, `host module ${spec}: setup failed: ${errorMessage(e)}`);
      }
    }
  } catch (e) {
    runtime.close();
    throw e;
  }
  return host;
}

/** `--db` is checked at once, whether or not a script uses windows (the store opens only if one does). */
function checkDb(db: string): void {
  // Loaded only when --db is given: a run without it loads no window code.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- on demand, see above
  const { windowDialect } = require('../windows/store') as typeof import('../windows/store');
  try {
    windowDialect(db);
  } catch (e) {
    throw new CliError(EXIT.USAGE, `--db: ${errorMessage(e)}`);
  }
}

/**
 * Builds a network the way `tributary run` does, without starting it: plugins, host
 * modules, then every script in order on one VM (a `.yaml`, `.yml` or `.json` file is a
 * declarative network, or an agglo config, built onto the same network) (the window store opens at start, and only
 * when the network has a window node). A failing script is a `CliError`
 * (exit 2) whose message starts `file:line:`; everything opened so far is closed. A script may
 * also be given as text ({@link ScriptText}, a deployed script).
 *
 * @example
 * ```ts
 * const session = await buildSession(['examples/scripted/network.lua'], {});
 * console.log(session.network.toDot());
 * await session.close();
 * ```
 */
export async function buildSession(scripts: readonly (string | ScriptText)[], options: SessionOptions): Promise<Session> {
  const host = await loadHosts(
    options,
    scripts.filter((s): s is string => typeof s === 'string'),
  );
  const { network, runtime, registry } = host;
  const close = async () => {
    runtime.close();
    // A network never started opened nothing; a started one closes its services on stop.
    if (network.state === 'building') await network.stop();
  };
  try {
    for (const script of scripts) {
      try {
        if (typeof script !== 'string') {
          if (script.format === 'lua') runtime.runString(script.source, script.name);
          else {
            const { secrets } = loadNetworkText(network, script.source, script.name, {
              runtime,
              ...(options.env ? { env: options.env } : {}),
              ...(options.agglo ? { agglo: options.agglo } : {}),
            });
            options.secrets?.push(...secrets);
          }
        } else if (isNetworkFile(script)) {
          const { secrets } = loadNetworkFile(network, script, {
            runtime,
            ...(options.env ? { env: options.env } : {}),
            ...(options.agglo ? { agglo: options.agglo } : {}),
          });
          options.secrets?.push(...secrets);
        } else runtime.runFile(script);
      } catch (e) {
        if (e instanceof TributaryError) throw new CliError(EXIT.USAGE, e.message);
        throw e;
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { network, runtime, registry, close };
}
