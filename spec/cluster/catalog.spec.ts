// fileCatalog (lib/cluster/catalog.ts): one local script as a catalog, re-read when it changes
// (`run --watch`, `run --group`).
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileCatalog, scriptFormatOf } from '../../lib/cluster/catalog';
import type { DeployedScript } from '../../lib/cluster/types';
import { poller } from './helpers';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-catalog-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Waits for a file system event to have been handled (fs.watch is asynchronous). */
const until = poller(10_000, 10);

describe('fileCatalog', () => {
  it('reads the file once as version 1, named after it, with the format of its extension', async () => {
    const file = path.join(dir, 'my net.yml');
    writeFileSync(file, 'nodes: []\n');
    const catalog = fileCatalog(file, { partitions: 4 });
    const seen: Array<readonly DeployedScript[]> = [];
    catalog.subscribe((s) => seen.push(s));
    expect(seen).toEqual([[expect.objectContaining({ name: 'my_net', version: 1, format: 'yaml', source: 'nodes: []\n', partitions: 4 })]]);
    await catalog.close();
    expect(scriptFormatOf('a.lua')).toBe('lua');
    expect(scriptFormatOf('a.JSON')).toBe('json');
  });

  it('with watch, counts a version per changed content, follows replaced files, and reports a file it cannot read', async () => {
    const file = path.join(dir, 'net.lua');
    writeFileSync(file, '-- one\n');
    const problems: string[] = [];
    const catalog = fileCatalog(file, { watch: true, debounceMs: 20, onProblem: (m) => problems.push(m) });
    const seen: DeployedScript[] = [];
    catalog.subscribe((s) => seen.push(...s));
    try {
      expect(seen.map((s) => s.version)).toEqual([1]);
      writeFileSync(file, '-- two\n');
      await until('version 2', () => seen.length === 2);
      expect(seen[1]).toMatchObject({ version: 2, source: '-- two\n' });
      // An editor's save: a new file renamed over the old one.
      writeFileSync(path.join(dir, '.net.lua.swp'), '-- three\n');
      renameSync(path.join(dir, '.net.lua.swp'), file);
      await until('version 3', () => seen.length === 3);
      expect(seen[2].source).toBe('-- three\n');
      unlinkSync(file);
      await until('the problem reported', () => problems.length > 0);
      expect(problems[0]).toMatch(/cannot read .*net\.lua: .*; version 3 stays/);
      writeFileSync(file, '-- three\n');
      writeFileSync(path.join(dir, 'other.lua'), '-- not watched\n');
      writeFileSync(file, '-- four\n');
      await until('version 4', () => seen.length === 4);
      expect(seen.map((s) => s.version)).toEqual([1, 2, 3, 4]);
      expect(seen[3].source).toBe('-- four\n');
    } finally {
      await catalog.close();
    }
  });

  it('refuses a name that cannot be a script name', () => {
    expect(() => fileCatalog(path.join(dir, 'x.lua'), { name: 'a.b' })).toThrow(/script name 'a\.b'/);
  });
});
