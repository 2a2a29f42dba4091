import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../lib/cli/program';
import { buildDist, REPO, tributary } from './cli-helpers';

jest.setTimeout(120_000);

const BROKEN = 'spec/fixtures/testing/network.broken-test.lua';
let dir: string;

/** Runs the command in this process (the spec's TypeScript, no build) and collects what it printed. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'tributary', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
  });
  return { code, stdout, stderr };
}

/** Writes files into the temp dir; returns the path of the first. */
function files(entries: Record<string, string>): string {
  for (const [name, text] of Object.entries(entries)) writeFileSync(path.join(dir, name), text);
  return path.join(dir, Object.keys(entries)[0]);
}

const TICKS = `local tb = require('tributary')
tb.create_ticker("ticks", "1s")
tb.create_map("double", function(n) return n * 2 end)
tb.create_discarder("out")
tb.link("ticks", "double")
tb.link("double", "out")
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-test-'));
});

describe('tributary test (the repository’s own test files: part of npm test)', () => {
  it("finds every *.test.lua under the working directory (node_modules skipped) and they all pass: the examples' scripted and advanced networks", async () => {
    const cwd = process.cwd();
    const r = await run(['test']);
    expect(process.cwd()).toBe(cwd);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('examples/scripted/network.test.lua\n  ok    prints 25 dots in 10 virtual seconds\n');
    expect(r.stdout).toContain('examples/advanced/network.test.lua\n  ok    alerts when');
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stdout).not.toContain('broken-test');
    expect(r.stdout).toMatch(/\n\d+ cases in \d+ files: \d+ passed, 0 failed\n$/);
    expect(r.code).toBe(0);
  });
});

describe('tributary test on a failing case', () => {
  it('prints the first differing frame and the frames around it, exactly as docs/testing.md shows, and exits 1', async () => {
    const r = await run(['test', BROKEN]);
    expect(r.code).toBe(1);
    const doc = readFileSync(path.join(REPO, 'docs/testing.md'), 'utf8');
    const block = /<!-- output: tributary test spec\/fixtures\/testing\/network\.broken-test\.lua -->\n```text\n([\s\S]*?)```/.exec(doc);
    expect(block).not.toBeNull();
    expect(r.stdout).toBe(block![1]);
    expect(r.stdout).toContain('  FAIL  the rate limit lets a tick through every 1.5 s\n');
    expect(r.stdout).toContain('filter_2s: first difference at frame 2000: expected 2000, actual nothing');
    expect(r.stdout).toContain('          > 2500   —         2500\n');
    expect(r.stdout).toContain('stats: filter_2s.dropped expected 13, actual 15');
  });

  it('--reporter tap: a TAP stream with the failure as YAML', async () => {
    const r = await run(['test', '--reporter', 'tap', BROKEN, 'examples/scripted']);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('TAP version 13');
    expect(lines.filter((l) => /^ok \d+ - examples\/scripted\/network\.test\.lua > /.test(l))).toHaveLength(3);
    expect(r.stdout).toContain(
      'not ok 4 - spec/fixtures/testing/network.broken-test.lua > the rate limit lets a tick through every 1.5 s\n  ---\n  failures:\n    - check: expect\n      node: "filter_2s"\n      frame: 2000\n',
    );
    expect(r.stdout.trimEnd().endsWith('1..4')).toBe(true);
  });

  it('--reporter json: counts, and every failure with its check, node and first differing frame', async () => {
    const r = await run(['test', '--reporter', 'json', BROKEN]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ passed: 0, failed: 1, broken: 0 });
    expect(report.files[0].cases[0].failures).toEqual([
      expect.objectContaining({ check: 'expect', node: 'filter_2s', frame: 2000 }),
      { check: 'stats', node: 'filter_2s', message: 'stats: filter_2s.dropped expected 13, actual 15' },
    ]);
  });
});

describe('tributary test is deterministic', () => {
  beforeAll(() => buildDist(), 180_000);

  it('two runs of the real command give byte-identical output (Lua clock, random numbers and the seeded host source included)', async () => {
    const test = files({
      'clocks.test.lua': `return { script = "clocks.lua", cases = {
        { name = "time and random numbers", run = "3s", stats = { out = { ["in"] = 3 } } },
        { name = "fails on purpose, to print a diff", run = "2s", expect = { double = "1s a 999ms b" } },
      } }`,
      'clocks.lua': `${TICKS}
print("started at", os.time(), os.clock(), os.date("%Y-%m-%d %H:%M:%S"), math.random(1000000), math.random())`,
    });
    const args = ['test', '--reporter', 'json', 'examples', BROKEN, test];
    const first = await tributary(args);
    const second = await tributary(args);
    expect(first.code).toBe(1);
    expect(first.stderr).toBe('');
    expect(second.stdout).toBe(first.stdout);
    const report = JSON.parse(first.stdout);
    expect(report).toMatchObject({ failed: 2, broken: 0 });
    expect(report.passed).toBeGreaterThanOrEqual(7);
  });

  it('the script sees the virtual clock and a seeded math.random', async () => {
    const test = files({
      'seeded.test.lua': `return { script = "seeded.lua", cases = {
        { name = "seed 7", run = "1s", seed = 7, output = "0\\t0.0\\t1970-01-01 00:00:00\\t" .. "SAME" .. "\\n" },
      } }`,
      'seeded.lua': `${TICKS}
print(os.time(), os.clock(), os.date("%Y-%m-%d %H:%M:%S"), math.random(1000000))`,
    });
    const r = await run(['test', '--reporter', 'json', test]);
    const message: string = JSON.parse(r.stdout).files[0].cases[0].failures[0].message;
    // The only difference is the placeholder: the time is virtual (0 s at start) and the random number is seed 7's.
    expect(message).toMatch(
      /^output: first difference at line 1: expected "0\\t0.0\\t1970-01-01 00:00:00\\tSAME", actual "0\\t0.0\\t1970-01-01 00:00:00\\t(\d+)"/,
    );
    const n = /\\t(\d+)"/.exec(message.split('actual ')[1])![1];
    const again = await run(['test', '--reporter', 'json', test]);
    expect(JSON.parse(again.stdout).files[0].cases[0].failures[0].message).toBe(message);
    expect(Number(n)).toBeGreaterThan(0);
  });
});

describe('tributary test: what a test file can say', () => {
  it('marble inputs replace sources; expectations at a pipeline node, payload lists, acks, output and stats all pass', async () => {
    const test = files({
      'all.test.lua': `return { script = "all.lua", cases = { {
        name = "everything", run = "5s",
        inputs = { ticks = { marbles = "-a-b-c|", values = { a = 1, b = 2, c = 3 } } },
        expect = { double = { marbles = "-a-b-c|", values = { a = 2, b = 4, c = 6 } }, out = { payloads = { 2, 4, 6 } } },
        acks = { ticks = { marbles = "-a-b-c", values = { a = 1, b = 2, c = 3 } } },
        nacks = { ticks = "" },
        stats = { double = { ["in"] = 3, out = 3, errors = 0 } },
      } } }`,
      'all.lua': TICKS,
    });
    const r = await run(['test', test]);
    expect(r.stdout).toContain('  ok    everything\n');
    expect(r.code).toBe(0);
  });

  it('a failing payload list is shown event by event; an unknown node in expect is named with a suggestion', async () => {
    const test = files({
      'bad.test.lua': `return { script = "bad.lua", cases = {
        { name = "payloads", run = "3s", expect = { double = { payloads = { 2000, 4000, 6001 } } } },
        { name = "names", run = "1s", expect = { doubel = "-" } },
      } }`,
      'bad.lua': TICKS,
    });
    const r = await run(['test', test]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('double: first difference at event 3: expected 6001, actual 6000');
    expect(r.stdout).toContain("the network has no node 'doubel' (nodes: ticks, double, out) — did you mean 'double'?");
  });

  it('a source that reaches outside the process must be replaced by an input; a sink that does is only recorded', async () => {
    const test = files({
      'http.test.lua': `return { script = "http.lua", cases = {
        { name = "not replaced", run = "1s" },
        { name = "replaced", run = "1s", inputs = { requests = "-a|" }, stats = { hook = { ["in"] = 1, acked = 1 } } },
      } }`,
      'http.lua': `local tb = require('tributary')
tb.create_http_source("requests", { port = 1 })
tb.create_webhook("hook", "http://127.0.0.1:1/never")
tb.link("requests", "hook")`,
    });
    const r = await run(['test', test]);
    expect(r.stdout).toContain(
      'http.lua:2: source \'requests\' (http_source) reaches outside the process (network); a test replaces it: inputs = { requests = "-a-b|" }',
    );
    expect(r.stdout).toContain('  FAIL  not replaced\n');
    expect(r.stdout).toContain('  ok    replaced\n');
  });

  it('exit 2: a malformed test file (named, with the key and a suggestion), no test files, a missing path', async () => {
    const test = files({ 'typo.test.lua': 'return { script = "x.lua", cases = { { name = "n", run = "1s", expcet = {} } } }' });
    const r = await run(['test', test]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('BROKEN  ');
    expect(r.stdout).toContain(
      "case 'n': a case: unknown key 'expcet' (known: name, run, seed, values, inputs, expect, acks, nacks, output, stats) — did you mean 'expect'?",
    );
    const empty = mkdtempSync(path.join(os.tmpdir(), 'tributary-test-empty-'));
    const none = await run(['test', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no test files (*.test.lua) found in');
    const missing = await run(['test', path.join(empty, 'nope.test.lua')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file or directory');
  });
});
