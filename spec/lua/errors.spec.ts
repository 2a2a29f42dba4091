import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, TributaryError } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

function fail(source: string, name = 'net.lua'): TributaryError {
  const network = new Network();
  const runtime = new LuaRuntime(network);
  try {
    runtime.runString(source, name);
  } catch (e) {
    expect(e).toBeInstanceOf(TributaryError);
    expect((e as TributaryError).code).toBe('SCRIPT');
    return e as TributaryError;
  } finally {
    runtime.close();
  }
  throw new Error('the script did not fail');
}

const TB = "local tb = require('tributary')\n";

describe('script errors point at the script', () => {
  it('a syntax error names file and line', () => {
    expect(fail(TB + '\ntb.create_forwarder("f"\n').message).toMatch(/^net\.lua:4: '\)' expected \(to close '\(' at line 3\) near <eof>$/);
  });

  it('an unknown node kind names the kind, the known ones, and the line', () => {
    const msg = fail(TB + 'tb.create_forwarder("f")\ntb.create_bogus("b")').message;
    expect(msg).toMatch(/^net\.lua:3: create_bogus: unknown node kind 'bogus' \(known: .*forwarder.*\)$/);
  });

  it('a bad duration names the node, the option and the line', () => {
    const msg = fail(TB + '\n\ntb.create_ticker("ticker_500ms", "5 parsecs")').message;
    expect(msg).toMatch(/^net\.lua:4: node 'ticker_500ms': .*option 'interval'.*bad duration "5 parsecs"/);
  });

  it('an unknown node in link names the node and the line', () => {
    const msg = fail(TB + 'tb.create_forwarder("a")\ntb.link("a", "missing")').message;
    expect(msg).toBe("net.lua:3: unknown node 'missing' (nodes: a)");
  });

  it('an unknown node in fanout and fanin names the node', () => {
    expect(fail(TB + 'tb.create_ticker("t", "1s")\ntb.fanout("t", "x")').message).toMatch(/^net\.lua:3: unknown node 'x'/);
    expect(fail(TB + 'tb.create_discarder("d")\ntb.fanin("d", "y")').message).toMatch(/^net\.lua:3: unknown node 'y'/);
  });

  it('a duplicate name is an error (the original silently overwrote)', () => {
    expect(fail(TB + 'tb.create_forwarder("f")\ntb.create_forwarder("f")').message).toBe("net.lua:3: node 'f' already exists");
  });

  it('a name that is not a string is an argument error', () => {
    expect(fail(TB + 'tb.create_forwarder(42)').message).toBe(
      "net.lua:2: bad argument #1 to 'create_forwarder' (name: node name expected, got number 42)",
    );
    expect(fail(TB + 'tb.create_forwarder("a")\ntb.link("a")').message).toBe(
      "net.lua:3: bad argument #2 to 'link' (to: node name expected, got nil)",
    );
    expect(fail(TB + 'tb.node_exists({})').message).toMatch(
      /^net\.lua:2: bad argument #1 to 'node_exists' \(name: node name expected, got a table\)/,
    );
  });

  it('too many arguments and unknown options are errors naming the signature or option', () => {
    expect(fail(TB + 'tb.create_forwarder("f", "x")').message).toBe(
      'net.lua:2: create_forwarder(name) takes no arguments after the name (or one options table), got 1',
    );
    expect(fail(TB + 'tb.create_ticker("t", "1s", "2s")').message).toBe(
      'net.lua:2: create_ticker(name, interval) takes at most 1 argument after the name (or one options table), got 2 (options: interval)',
    );
    expect(fail(TB + 'tb.create_ticker("t")').message).toMatch(/^net\.lua:2: node 't': .*option 'interval' is required/);
  });

  it('invalid wiring is an error: a sink as a source, a cycle', () => {
    expect(fail(TB + 'tb.create_discarder("d") tb.create_forwarder("f")\ntb.link("d", "f")').message).toMatch(
      /^net\.lua:3: cannot link 'd' -> 'f': 'd' is a sink/,
    );
    expect(fail(TB + 'tb.create_forwarder("a") tb.create_forwarder("b") tb.link("a", "b")\ntb.link("b", "a")').message).toMatch(
      /^net\.lua:3: cannot link 'b' -> 'a': it would close the cycle/,
    );
  });

  it('the line is that of the failing call even inside a helper function', () => {
    const msg = fail(TB + 'local function wire(a, b)\n  tb.link(a, b)\nend\nwire("x", "y")').message;
    expect(msg).toMatch(/^net\.lua:3: unknown node 'x'/);
  });

  it('a Lua runtime error and error() name the line', () => {
    expect(fail('local x = nil\nreturn x.field').message).toBe("net.lua:2: attempt to index a nil value (local 'x')");
    expect(fail('\nerror("custom failure")').message).toBe('net.lua:2: custom failure');
    expect(fail('error("no position", 0)').message).toBe('net.lua: no position');
  });

  it('a script file is named by its path in messages', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-lua-'));
    const file = path.join(dir, 'broken.lua');
    writeFileSync(file, TB + 'tb.create_ticker("t", "soon")\n');
    const runtime = new LuaRuntime(new Network());
    expect(() => runtime.runFile(file)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: node 't'`));
    expect(() => runtime.runFile(path.join(dir, 'missing.lua'))).toThrow(/cannot read script .*missing\.lua/);
    runtime.close();
  });

  it('nothing is started when a script fails, and what it built stays unstarted', () => {
    const network = new Network();
    const runtime = new LuaRuntime(network);
    expect(() => runtime.runString(TB + 'tb.create_ticker("t", "1s")\ntb.link("t", "nowhere")', 'net.lua')).toThrow(/net\.lua:3/);
    expect(network.state).toBe('building');
    expect(network.stats().t).toEqual({ in: 0, out: 0, errors: 0, acked: 0, nacked: 0, dropped: 0 });
    runtime.close();
  });

  it('exports raise Lua errors that scripts can catch with pcall', () => {
    const network = new Network();
    const runtime = new LuaRuntime(network);
    const result = runtime.runString(TB + 'local ok, err = pcall(tb.link, "a", "b")\nreturn { ok, err }', 'net.lua');
    expect(result).toEqual([false, expect.stringMatching(/unknown node 'a'/)]);
    runtime.close();
  });
});
