import { builtinPlugins } from '../../lib/plugins';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, defineNode, opt } from 'tributary';
import { LuaRuntime } from 'tributary/lua';

function run(source: string, options: ConstructorParameters<typeof LuaRuntime>[1] = {}): unknown {
  const runtime = new LuaRuntime(new Network({ plugins: builtinPlugins() }), options);
  try {
    return runtime.runString(source, 'sandbox.lua');
  } finally {
    runtime.close();
  }
}

describe('the sandbox (on by default)', () => {
  it.each([
    ['os.execute', 'os.execute("touch /tmp/tributary-pwned")', /sandbox\.lua:1: os\.execute is not available in the sandbox/],
    ['os.exit', 'os.exit(3)', /os\.exit is not available/],
    ['os.remove', 'os.remove("/tmp/x")', /os\.remove is not available/],
    ['os.getenv', 'return os.getenv("HOME")', /os\.getenv is not available/],
    ['io', 'io.write("x")', /attempt to index a nil value \(global 'io'\)/],
    ['dofile', 'dofile("/etc/passwd")', /dofile is not available in the sandbox/],
    ['loadfile', 'loadfile("/etc/passwd")', /loadfile is not available in the sandbox/],
    ['debug', 'debug.getinfo(1)', /attempt to index a nil value \(global 'debug'\)/],
    ['package.loadlib', 'package.loadlib("x", "y")', /attempt to index a nil value \(global 'package'\)/],
    ['require of a library', 'require("io")', /require\('io'\) is not allowed in the sandbox/],
    ['string.dump', 'local d = string.dump(function() return 1 end)', /sandbox\.lua:1: string\.dump is not available in the sandbox/],
    ['string.dump as a method', 'local s = "x"\nlocal d = s.dump(print)', /sandbox\.lua:2: string\.dump is not available in the sandbox/],
    ['require of a file', 'require("etc.passwd")', /require\('etc\.passwd'\) is not allowed in the sandbox/],
  ])('refuses %s', (_, source, message) => {
    expect(() => run(source)).toThrow(message);
  });

  it('refuses binary chunks through load', () => {
    const result = run('local fn, err = load("\\27Lua\\83\\0")\nreturn { fn == nil, err }');
    expect(result).toEqual([true, expect.stringMatching(/attempt to load a binary chunk/)]);
  });

  it('still allows text chunks through load, with or without an environment', () => {
    expect(run('return load("return 1 + 1")()')).toBe(2);
    expect(run('return load("return x", "chunk", "t", { x = 7 })()')).toBe(7);
  });

  it('keeps the harmless libraries: string, table, math, os.time, coroutine, utf8', () => {
    const result = run(
      'return { string.upper("a"), table.concat({1,2}, ","), math.max(1, 3), type(os.time()), coroutine.wrap(function() coroutine.yield(5) end)(), utf8.char(72) }',
    );
    expect(result).toEqual(['A', '1,2', 3, 'number', 5, 'H']);
  });

  it('allows require of modules under the allowed Lua paths only', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-luapath-'));
    mkdirSync(path.join(dir, 'lib'));
    writeFileSync(path.join(dir, 'lib', 'helpers.lua'), 'local M = {}\nfunction M.twice(x) return 2 * x end\nreturn M\n');
    expect(run('return require("lib.helpers").twice(21)', { luaPath: [dir] })).toBe(42);
    expect(() => run('return require("lib.other")', { luaPath: [dir] })).toThrow(
      /require\('lib\.other'\) is not allowed in the sandbox: scripts may require 'tributary' and modules under/,
    );
    expect(() => run('return require("../secret")', { luaPath: [dir] })).toThrow(/not allowed/);
  });

  it('can be turned off for trusted scripts', () => {
    expect(run('return type(io.write), type(os.getenv("HOME")), type(debug.getinfo)', { sandbox: false })).toBe('function');
    expect(run('return require("string").upper("x")', { sandbox: false })).toBe('X');
    expect(run('return require("tributary").node_exists("x")', { sandbox: false })).toBe(false);
  });
});

describe('the sandbox and node kinds that reach outside the process', () => {
  const fileKind = defineNode({
    name: 'probe_file',
    role: 'sink',
    io: 'files',
    summary: 'Writes somewhere on disk.',
    options: { path: opt.string('where').require() },
    positional: ['path'],
    example: "net.add('f', probe_file({ path: '/tmp/x' }))",
    build: () => ({ role: 'sink', kind: 'probe_file', create: () => (s) => s }),
  });

  function runWith(source: string, options: ConstructorParameters<typeof LuaRuntime>[1] = {}): Network {
    const net = new Network({ plugins: builtinPlugins() });
    net.registry.register(fileKind);
    const runtime = new LuaRuntime(net, options);
    try {
      runtime.runString(source, 'files.lua');
    } finally {
      runtime.close();
    }
    return net;
  }

  it('refuses kinds that read or write files, naming the line and the way out', () => {
    expect(() => runWith('local tb = require("tributary")\ntb.create_probe_file("out", "/etc/passwd")')).toThrow(
      /files\.lua:2: create_probe_file: node kind 'probe_file' reads or writes local files, which a sandboxed script may not/,
    );
  });

  it('allows them with allowFiles or without the sandbox', () => {
    const script = 'local tb = require("tributary")\ntb.create_probe_file("out", "/tmp/x")';
    expect(runWith(script, { allowFiles: true }).exists('out')).toBe(true);
    expect(runWith(script, { sandbox: false }).exists('out')).toBe(true);
  });

  it.each([
    ["attach database '/tmp/evil.db' as evil"],
    ["vacuum into '/tmp/copy.db'"],
    ["select load_file('/etc/passwd')"],
    ["select * from bets into outfile '/tmp/out'"],
    ["select load_extension('/tmp/x.so')"],
    ["copy bets to '/tmp/out.csv'"],
    ["copy bets from program 'id'"],
    ["select pg_read_file('/etc/passwd')"],
    ["select lo_import('/etc/passwd')"],
  ])('refuses window SQL that reaches files: %s', (sql) => {
    expect(() => runWith(`local tb = require("tributary")\ntb.query_window("q", "${sql}")`)).toThrow(
      /files\.lua:2: .*a sandboxed script may not use (ATTACH|VACUUM|LOAD_FILE|OUTFILE|LOAD_EXTENSION|COPY|PG_READ_FILE|LO_IMPORT) in SQL/,
    );
  });

  it('accepts ordinary window SQL, including names that merely contain those words', () => {
    const net = runWith('local tb = require("tributary")\ntb.query_window("q", "select attached_at, vacuumed, copy_count from bets")');
    expect(net.exists('q')).toBe(true);
  });
});
