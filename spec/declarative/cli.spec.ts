import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDist, REPO } from '../cli/cli-helpers';

jest.setTimeout(60_000);

const BIN = path.join(REPO, 'bin', 'tributary.js');
let dir: string;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tributary <args>` over the built CLI, with standard input and extra environment variables. */
function tributary(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: REPO,
    input: options.input ?? '',
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 50_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

/** The lines of NDJSON text, parsed. */
function records(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

beforeAll(() => {
  buildDist();
  dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-decl-'));
}, 240_000);

describe('tributary run <network.yaml>', () => {
  it('runs the quickstart network from YAML: dots, exit 0 after --for', () => {
    const r = tributary(['run', 'examples/declarative/network.yaml', '--for', '1s']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\.{2,}$/);
  });

  it('stdin to stdout through Lua functions, with the errors routed to a file (example pipeline.yaml)', () => {
    const rejects = path.join(dir, 'rejects.ndjson');
    const input = [
      '{"customer":"c1","stake":50,"odds":4}',
      '{"customer":"c2","stake":"x","odds":2}',
      '{"customer":"c3","stake":10,"odds":2}',
      '',
    ].join('\n');
    const r = tributary(['run', '--allow-files', 'examples/declarative/pipeline.yaml'], { input, env: { REJECTS: rejects } });
    expect(records(r.stdout)).toEqual([{ customer: 'c1', liability: 150 }]);
    expect(records(readFileSync(rejects, 'utf8'))).toEqual([
      {
        error: expect.stringMatching(/^examples\/declarative\/pipeline\.yaml:13: stake must be a number$/),
        node: 'liability',
        payload: { customer: 'c2', stake: 'x', odds: 2 },
      },
    ]);
    // The error event was handled (routed), but the node did fail on it: exit 3 names it.
    expect(r.stderr).toMatch(/^tributary: 1 error event \(node 'liability': 1\)$/m);
    expect(r.code).toBe(3);
  });

  it('fan-out and fan-in from a JSON file: every event through both branches, merged into one sink', () => {
    const net = file(
      'fan.json',
      JSON.stringify({
        nodes: [
          { name: 'numbers', kind: 'stdin_source' },
          { name: 'evens', kind: 'where', options: { fn: 'function(n) return n % 2 == 0 end' } },
          { name: 'tens', kind: 'map', options: { fn: 'function(n) return n * 10 end' } },
          { name: 'out', kind: 'stdout_sink' },
        ],
        edges: [
          { from: 'numbers', to: ['evens', 'tens'] },
          { from: ['evens', 'tens'], to: 'out' },
        ],
      }),
    );
    const r = tributary(['run', net, '--stats'], { input: '1\n2\n3\n4\n' });
    expect(r.code).toBe(0);
    expect((records(r.stdout) as number[]).sort((a, b) => a - b)).toEqual([2, 4, 10, 20, 30, 40]);
    const report = JSON.parse(r.stderr.slice(r.stderr.indexOf('{'), r.stderr.lastIndexOf('}') + 1)) as {
      stats: Record<string, { in: number; out: number; acked: number }>;
    };
    expect(report.stats.out.in).toBe(6);
    expect(report.stats.numbers.out).toBe(4);
  });

  it('a file source into a file sink (with --allow-files); without it the sandbox refuses, naming the line', () => {
    const from = file('in.ndjson', '{"a":1}\n{"a":2}\n');
    const to = path.join(dir, 'out.ndjson');
    const net = file(
      'files.yaml',
      `nodes:\n  - { name: in, kind: file_source, options: { path: "${from}" } }\n  - { name: out, kind: file_sink, options: { path: "\${OUT}" } }\nedges:\n  - { from: in, to: out }\n`,
    );
    const refused = tributary(['run', net], { env: { OUT: to } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^tributary: .*files\.yaml:2:5: node 'in': .*reads or writes local files/m);
    const r = tributary(['run', '--allow-files', net], { env: { OUT: to } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(records(readFileSync(to, 'utf8'))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('a YAML file adds to a network a Lua script built before it', () => {
    const lua = file('first.lua', "local tb = require('tributary')\ntb.create_from('n', { 1, 2 })\n");
    const yaml = file('second.yaml', 'nodes:\n  - { name: out, kind: tester }\nedges:\n  - { from: n, to: out }\n');
    const r = tributary(['run', lua, yaml]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1\n2\n');
  });

  it('errors exit 2 with file:line: and the node: a bad option, an unknown kind', () => {
    const bad = file('bad.yaml', 'nodes:\n  - name: t\n    kind: ticker\n    options:\n      interval: soon\n');
    const r = tributary(['run', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tributary: .*bad\.yaml:5:7: node 't': node kind 'ticker': option 'interval': bad duration "soon"/);
    const unknown = file('unknown.yaml', 'nodes:\n  - { name: t, kind: tikcer }\n');
    expect(tributary(['run', unknown]).stderr).toMatch(/unknown\.yaml:2:16: node 't': unknown node kind 'tikcer' .*did you mean 'ticker'/);
  });
});

describe('environment references and secrets', () => {
  it('a missing variable is an error naming it and the line', () => {
    const net = file('env.yaml', 'nodes:\n  - name: p\n    kind: tester\n    options:\n      indicator: "${NOT_SET_ANYWHERE}"\n');
    const r = tributary(['run', net]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/env\.yaml:5:7: node 'p': option 'indicator': environment variable 'NOT_SET_ANYWHERE' is not set/);
  });

  it('substituted values (and defaults) reach the nodes', () => {
    const net = file(
      'subst.yaml',
      'nodes:\n  - { name: n, kind: from, options: { items: [1] } }\n  - { name: p, kind: tester, options: { indicator: "${MARK}${OTHER:-!}" } }\nedges:\n  - { from: n, to: p }\n',
    );
    const r = tributary(['run', net], { env: { MARK: 'tick' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('tick!');
  });

  it('a secret never shows in error messages, log lines, the --stats report, graph or check output', () => {
    const secret = 'hunter2-s3cr3t';
    const env = { TB_DECL_TOKEN: secret };
    // A bad value: the message shows the reference, not the value.
    const badDuration = file('secret-bad.yaml', 'nodes:\n  - name: t\n    kind: ticker\n    options: { interval: "${TB_DECL_TOKEN}" }\n');
    const r1 = tributary(['run', badDuration], { env });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('bad duration "${TB_DECL_TOKEN}"');
    expect(r1.stderr).not.toContain(secret);
    // A sink that cannot open its file logs the path: the value is hidden in the log line.
    const logged = file(
      'secret-log.yaml',
      `nodes:\n  - { name: n, kind: from, options: { items: [1] } }\n  - { name: out, kind: file_sink, options: { path: "${path.join(dir, 'in.ndjson')}/\${TB_DECL_TOKEN}/x" } }\nedges:\n  - { from: n, to: out }\n`,
    );
    file('in.ndjson', '{}\n');
    const r2 = tributary(['run', '--allow-files', logged, '--log-level', 'debug', '--stats'], { env });
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toMatch(/ENOTDIR|not a directory/);
    expect(r2.stderr).not.toContain(secret);
    for (const format of ['dot', 'tree', 'json']) {
      const g = tributary(['graph', '--format', format, '--allow-files', logged], { env });
      expect(g.code).toBe(0);
      expect(g.stdout).not.toContain(secret);
    }
    const c = tributary(['check', '--allow-files', logged], { env });
    expect(c.code).toBe(0);
    expect(c.stdout + c.stderr).not.toContain(secret);
  });
});

describe('tributary graph / check / test / schema on network files', () => {
  it('graph draws the YAML network exactly as the Lua script it mirrors', () => {
    for (const format of ['tree', 'dot', 'json']) {
      const yaml = tributary(['graph', '--format', format, 'examples/declarative/network.yaml']);
      const lua = tributary(['graph', '--format', format, 'examples/scripted/network.lua']);
      expect(yaml.code).toBe(0);
      expect(yaml.stdout).toBe(lua.stdout);
    }
  });

  it('check: ok for a complete network; an unconnected node exits 2 naming it', () => {
    const ok = tributary(['check', 'examples/declarative/network.yaml']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('ok: 5 nodes, 5 edges, all connected\n');
    const loose = file(
      'loose.yaml',
      'nodes:\n  - { name: t, kind: ticker, options: { interval: 1s } }\n  - { name: f, kind: forwarder }\nedges:\n  - { from: t, to: f }\n',
    );
    const r = tributary(['check', loose]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("tributary: node 'f' (pipeline) has no output\n");
  });

  it('test runs a YAML test file of a YAML network on virtual time', () => {
    const r = tributary(['test', 'examples/declarative']);
    expect(r.stdout).toBe(
      [
        'examples/declarative/network.test.yaml',
        '  ok    prints 25 dots in 10 virtual seconds',
        '  ok    with its ticker replaced by marbles, the printer sees both branches',
        '',
        '2 cases in 1 file: 2 passed, 0 failed',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  });

  it('test reports a failing case of a YAML network with its diff', () => {
    const net = file(
      'count.yaml',
      'nodes:\n  - { name: t, kind: ticker, options: { interval: 1s } }\n  - { name: p, kind: tester, options: { indicator: "." } }\nedges:\n  - { from: t, to: p }\n',
    );
    const spec = file(
      'count.test.yaml',
      `script: ${path.basename(net)}\ncases:\n  - name: three dots\n    run: 3500ms\n    output: "...."\n`,
    );
    const r = tributary(['test', spec]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL  three dots');
  });

  it('schema prints the JSON Schema of network files, with the kinds of --plugin', () => {
    const plugin = file(
      'plugin.js',
      `const { definePlugin, defineNode, opt, nodes } = require('tributary');
       exports.default = definePlugin({ name: 'acme', kinds: [defineNode({
         name: 'acme_scale', role: 'pipeline', summary: 'Multiplies numbers.', positional: [],
         options: { factor: opt.number('the multiplier').require() }, example: '',
         build: (o) => nodes.map({ fn: (n) => n * o.factor }),
       })] });`,
    );
    const r = tributary(['schema', '--plugin', plugin]);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as { title: string; $defs: Record<string, { properties: Record<string, unknown> }> };
    expect(schema.title).toBe('Tributary network');
    expect(schema.$defs['options.acme_scale'].properties.factor).toMatchObject({ description: 'the multiplier' });
    expect(Object.keys(schema.$defs)).toEqual(expect.arrayContaining(['options.ticker', 'options.nats_source', 'options.stdin_source']));
  });
});
