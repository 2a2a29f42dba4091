import * as path from 'node:path';
import { parseDuration } from '../duration';
import { TributaryError, errorMessage } from '../errors';
import { LuaRuntime } from '../lua/runtime';
import { Network } from '../network/network';
import { createRegistry } from '../nodes/index';
import type { Registry } from '../nodes/registry';
import { CliError, EXIT } from './exit';
import { loadHostModule, type HostContext } from './hosts';
import { provideWindowStore, type ClosableStore } from './windows';

/** What every command that reads scripts accepts. */
export interface SessionOptions {
  /** Host modules (`--require`), loaded in order before the scripts. */
  requires?: string[];
  /** Window database URL (`--db`). */
  db?: string;
  /** False for `--no-sandbox`. */
  sandbox?: boolean;
  /** `--allow-files`: sandboxed scripts may create file sources and sinks. */
  allowFiles?: boolean;
  /** Directory host modules are resolved from; default the working directory. */
  cwd?: string;
  /** Longest a script may run (`--script-timeout`, Go syntax or ms); default 30 s. */
  scriptTimeout?: string;
  /** How long `stop()` waits for the drain (`--drain-timeout`); default the network's 30 s. */
  drainTimeout?: string;
}

/** A network built from scripts, not yet started, with what must be closed after it. */
export interface Session {
  readonly network: Network;
  readonly runtime: LuaRuntime;
  readonly registry: Registry;
  /** Frees the Lua VM and closes the window store. */
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
  const registry = createRegistry();
  let network: Network;
  try {
    network = new Network({ registry, ...(options.drainTimeout !== undefined ? { drainTimeout: options.drainTimeout } : {}) });
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e).replace('drainTimeout', '--drain-timeout'));
  }
  // Scripts may require Lua modules kept next to them, even in the sandbox.
  const luaPath = [...new Set(scripts.map((s) => path.dirname(path.resolve(s))))];
  let scriptTimeout: number;
  try {
    scriptTimeout = parseDuration(options.scriptTimeout ?? '30s', '--script-timeout');
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
  const runtime = new LuaRuntime(network, { sandbox: options.sandbox !== false, allowFiles: options.allowFiles === true, luaPath, scriptTimeout });
  const host: HostContext = { network, runtime, registry, windows: { entities: [] } };
  const cwd = options.cwd ?? process.cwd();
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

/**
 * Builds a network the way `tributary run` does, without starting it: host modules, the
 * window store, then every script in order on one VM. A failing script is a `CliError`
 * (exit 2) whose message starts `file:line:`; everything opened so far is closed.
 *
 * @example
 * ```ts
 * const session = await buildSession(['examples/scripted/network.lua'], {});
 * console.log(session.network.toDot());
 * await session.close();
 * ```
 */
export async function buildSession(scripts: string[], options: SessionOptions): Promise<Session> {
  const host = await loadHosts(options, scripts);
  const { network, runtime, registry } = host;
  let store: ClosableStore | undefined;
  const close = async () => {
    runtime.close();
    await store?.close();
  };
  try {
    store = await provideWindowStore(network, host.windows, options.db);
    for (const script of scripts) {
      try {
        runtime.runFile(script);
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
