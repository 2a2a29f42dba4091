// `tributary run --watch` in process: an edit of the script starts its new version after the
// old one drained; an edit that does not build is reported and the old version keeps running.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../../lib/cli/commands/run';
import { main } from '../../lib/cli/program';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-watch-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function collector() {
  let text = '';
  return { write: (s: string) => ((text += s), true), text: () => text };
}

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const script = (out: string, version: string) =>
  `local tb = require('tributary')\n` +
  `tb.create_ticker('t', '5ms')\n` +
  `tb.create_map('tag', function(n) return { v = '${version}' } end)\n` +
  `tb.create_file_sink('out', '${out}')\n` +
  `tb.link('t', 'tag')\ntb.link('tag', 'out')\n`;

describe('run --watch', () => {
  it('starts the new version after draining the old; a broken edit is reported and the old one keeps running', async () => {
    const file = path.join(dir, 'net.lua');
    const out = path.join(dir, 'out.ndjson');
    writeFileSync(file, script(out, 'one'));
    const stderr = collector();
    const stop = new AbortController();
    const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter(Boolean) : []).map((l) => JSON.parse(l).v);
    const run = runCommand([file], { watch: true, allowFiles: true, quiet: true, signal: stop.signal }, { stdout: collector(), stderr });
    try {
      await until('version one writes', () => lines().length >= 3);
      writeFileSync(file, script(out, 'two'));
      await until('version two writes', () => lines().includes('two'));
      // The old version drained before the new one started: every 'one' line precedes every 'two'.
      const seen = lines();
      expect(seen.lastIndexOf('one')).toBeLessThan(seen.indexOf('two'));
      expect(stderr.text()).toContain('net.lua: version 1 drained');
      expect(stderr.text()).toContain('net.lua: version 2 running');
      writeFileSync(file, "local tb = require('tributary')\n\ntb.create_nonsense('x')\n");
      await until('the broken edit reported', () => stderr.text().includes('version 3 does not build'));
      expect(stderr.text()).toMatch(/version 3 does not build; version 2 keeps running: net\.lua:3: /);
      const before = lines().length;
      await until('version two still writing', () => lines().length > before + 3);
      expect(new Set(lines().slice(before))).toEqual(new Set(['two']));
    } finally {
      stop.abort();
    }
    expect(await run).toBe(0);
  });

  it('refuses a first version that does not build, and usage errors', async () => {
    const file = path.join(dir, 'bad.lua');
    writeFileSync(file, 'this is not lua\n');
    const stderr = collector();
    const code = await main(['node', 'tributary', 'run', '--watch', file], { stdout: collector(), stderr });
    expect(code).toBe(2);
    expect(stderr.text()).toMatch(/tributary: bad\.lua:1: /);
    const e2 = collector();
    expect(await main(['node', 'tributary', 'run', '--watch', file, file], { stdout: collector(), stderr: e2 })).toBe(2);
    expect(e2.text()).toContain('--watch runs one script, got 2');
  });
});
