import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildDist, tributary } from '../cli/cli-helpers';

// Bad command lines for the real `tributary` bin: each exits 2 and its message names the flag,
// the argument or the file at fault. `%DIR%` in an argument is the scripts' directory.
const OK = "local tb = require('tributary')\ntb.create_ticker('t', '1s')\ntb.create_discarder('d')\ntb.link('t', 'd')\n";
const WINDOW =
  "local tb = require('tributary')\ntb.create_ticker('t', '100ms')\ntb.create_window('w', {table = 't1'})\n" +
  "tb.create_discarder('d')\ntb.link('t', 'w')\ntb.link('w', 'd')\n";

type CliCase = [label: string, args: string[], culprits: string[]];

const CASES: CliCase[] = [
  ['--for with a bad duration', ['run', '%DIR%/ok.lua', '--for', 'soon'], ["option '--for'", 'bad duration "soon"']],
  ['--for negative', ['run', '%DIR%/ok.lua', '--for', '-1s'], ["option '--for'", 'bad duration "-1s"']],
  ['--for without its value', ['run', '%DIR%/ok.lua', '--for'], ["option '--for <duration>' argument missing"]],
  ['--for past a timer', ['run', '%DIR%/ok.lua', '--for', '99999999h'], ["option '--for'", 'longer than a timer can hold']],
  ['--script-timeout bad', ['run', '%DIR%/ok.lua', '--script-timeout', 'forever'], ["option '--script-timeout'", 'bad duration "forever"']],
  ['check --script-timeout negative', ['check', '%DIR%/ok.lua', '--script-timeout', '-5s'], ["option '--script-timeout'", '"-5s"']],
  ['--drain-timeout bad', ['run', '%DIR%/ok.lua', '--drain-timeout', 'xyz'], ["option '--drain-timeout'", 'bad duration "xyz"']],
  ['a missing script', ['run', '%DIR%/missing.lua'], ['cannot read script %DIR%/missing.lua', 'ENOENT']],
  ['a directory as script', ['check', '%DIR%'], ['cannot read script %DIR%', 'EISDIR']],
  ['run without a script', ['run'], ["missing required argument 'script'"]],
  ['--plugin path not found', ['run', '%DIR%/ok.lua', '--plugin', './no-such-plugin.js'], ["cannot find the plugin './no-such-plugin.js'"]],
  ['--plugin package not found', ['nodes', '--plugin', 'no-such-package-xyz'], ["cannot find the plugin 'no-such-package-xyz'"]],
  ['--require not found', ['check', '%DIR%/ok.lua', '--require', './nope.js'], ["cannot find the host module './nope.js'"]],
  ['misspelt flag', ['run', '%DIR%/ok.lua', '--fro', '1s'], ["unknown option '--fro'", 'Did you mean --for?']],
  ['misspelt --json', ['nodes', '--jsn'], ["unknown option '--jsn'", 'Did you mean --json?']],
  ['bad --format', ['graph', '%DIR%/ok.lua', '--format', 'png'], ["option '--format <format>' argument 'png' is invalid"]],
  ['unknown command', ['bogus-command'], ["unknown command 'bogus-command'"]],
  ['--db with an unsupported URL', ['run', '%DIR%/window.lua', '--db', 'mongodb://x', '--for', '300ms'], ["unsupported URL 'mongodb://x'"]],
];

describe('the CLI names the flag, argument or file of a bad command line', () => {
  let dir: string;
  beforeAll(() => {
    buildDist();
    dir = mkdtempSync(path.join(os.tmpdir(), 'tb-corpus-cli-'));
    writeFileSync(path.join(dir, 'ok.lua'), OK);
    writeFileSync(path.join(dir, 'window.lua'), WINDOW);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(CASES)(
    '%s: %j',
    async (_label, args, culprits) => {
      const r = await tributary(args.map((a) => a.replace('%DIR%', dir)));
      expect(r.code).toBe(2);
      for (const c of culprits) expect(r.stderr).toContain(c.replace('%DIR%', dir));
    },
    20_000,
  );
});
