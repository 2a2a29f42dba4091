import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const HEAVY = [
  'fengari',
  'typeorm',
  'reflect-metadata',
  'nats',
  'amqplib',
  'mqtt',
  'ioredis',
  'sqlite3',
  'mysql2',
  'pg',
  'prom-client',
  '@viz-js/viz',
  'pino',
];

/** Runs `body` in a fresh Node process (TypeScript sources) and returns what it loaded. */
function loadedBy(body: string): { packages: string[]; lib: string[] } {
  const script = `
    ${body}
    .then(() => {
      const files = Object.keys(require.cache);
      const packages = ${JSON.stringify(HEAVY)}.filter((p) => files.some((f) => f.includes('/node_modules/' + p + '/')));
      const lib = files.filter((f) => f.startsWith(${JSON.stringify(path.join(root, 'lib') + path.sep)})).map((f) => f.slice(${root.length + 5}));
      process.stdout.write('\\n@@' + JSON.stringify({ packages, lib }));
    });`;
  const out = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.slice(out.lastIndexOf('@@') + 2));
}

describe('the plugin boundary', () => {
  it("require('tributary') loads no family and none of fengari, TypeORM, reflect-metadata, nats, amqplib, sqlite3", () => {
    const { packages, lib } = loadedBy(`Promise.resolve(require('./lib/index'))`);
    expect(packages).toEqual([]);
    expect(lib.filter((f) => /^(windows|connectors|lua\/(?!host)|cli|plugins)/.test(f))).toEqual([]);
  }, 30_000);

  it("the family entry points load their code, not their clients: 'tributary/windows' and 'tributary/connectors'", () => {
    const { packages } = loadedBy(`Promise.resolve([require('./lib/windows/index'), require('./lib/connectors/index')])`);
    expect(packages).toEqual([]);
  }, 30_000);

  it('tributary run loads only the families a script uses', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-boundary-'));
    const ticker = path.join(dir, 'ticker.lua');
    writeFileSync(ticker, 'local tb = require("tributary")\ntb.create_ticker("t", "1s")\ntb.create_discarder("d")\ntb.link("t", "d")\n');
    const hook = path.join(dir, 'hook.lua');
    writeFileSync(
      hook,
      'local tb = require("tributary")\ntb.create_ticker("t", "1s")\ntb.create_webhook("w", "http://127.0.0.1:9/x")\ntb.link("t", "w")\n',
    );
    const run = (file: string) =>
      loadedBy(`require('./lib/cli/index').main(['node', 'tributary', 'run', ${JSON.stringify(file)}, '--for', '0s'])
        .then((code) => { if (code !== 0) throw new Error('exit ' + code); })`);

    // fengari runs the script; pino is the command's own logger (docs/logging.md).
    const plain = run(ticker);
    expect(plain.packages).toEqual(['fengari', 'pino']);
    expect(plain.lib.filter((f) => /^(windows|connectors)\//.test(f))).toEqual([]);

    const withHook = run(hook);
    expect(withHook.lib).toContain('connectors/http/plugin.ts');
    expect(withHook.lib.filter((f) => /^(windows|connectors\/(nats|amqp|file))\//.test(f))).toEqual([]);
    expect(withHook.packages).toEqual(['fengari', 'pino']);
  }, 60_000);
});
