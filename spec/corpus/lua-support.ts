import { Network, TributaryError } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { builtinPlugins } from 'tributary/plugins';

export const TB = "local tb = require('tributary')\n";

/**
 * Runs `TB + body` as `net.lua` in a sandboxed runtime over every built-in plugin and returns
 * the error it raised (or throws when the script did not fail).
 */
export function luaFailure(body: string, opts: { allowFiles?: boolean } = {}): TributaryError {
  const network = new Network({ plugins: builtinPlugins() });
  const runtime = new LuaRuntime(network, { allowFiles: opts.allowFiles ?? false, callTimeout: 1000 });
  try {
    runtime.runString(TB + body, 'net.lua');
  } catch (e) {
    if (!(e instanceof TributaryError)) throw new Error(`not a TributaryError: ${String(e)}`);
    return e;
  } finally {
    runtime.close();
  }
  throw new Error(`the script did not fail: ${body}`);
}

/** One bad-script case: a label, the script body (line 2 on), the line it fails at, and culprits. */
export type LuaCase = [label: string, body: string, line: number, culprits: (string | RegExp)[]];

/** Asserts that the failure of `body` starts with `net.lua:<line>:` and names every culprit. */
export function expectLuaCulprits(body: string, line: number, culprits: (string | RegExp)[], opts: { allowFiles?: boolean } = {}): void {
  const e = luaFailure(body, opts);
  expect(e.code).toBe('SCRIPT');
  expect(e.message.startsWith(`net.lua:${line}:`)).toBe(true);
  for (const c of culprits) {
    if (typeof c === 'string') expect(e.message).toContain(c);
    else expect(e.message).toMatch(c);
  }
}
