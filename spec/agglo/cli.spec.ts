import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

jest.setTimeout(120_000);

const REPO = path.join(__dirname, '..', '..');
const CONFIG = path.join(__dirname, 'fixtures', 'orders_pipeline.json');

/** `tributary <args>` from the sources (ts-node), with standard input and extra environment. */
function tributary(args: string[], input: string, env: Record<string, string>) {
  const r = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(REPO, 'spec', 'declarative', 'cli-run.ts'), ...args],
    {
      cwd: REPO,
      input,
      env: { ...process.env, TS_NODE_PROJECT: path.join(REPO, 'tsconfig.json'), ...env },
      encoding: 'utf8',
      timeout: 110_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tributary run <agglo config>', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agglo-proc-cli-'));
  const env = {
    TRIBUTARY_AGGLO_RAW_EVENTS: path.join(dir, 'raw'),
    TRIBUTARY_AGGLO_FINAL_EVENTS: path.join(dir, 'final'),
  };
  const events = [
    { order: { kind: 'express' }, amount: 2, sku: 'sku-X9' },
    { order: { kind: 'standard' }, amount: 3 },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n');

  it('reads NDJSON from stdin and writes where the tees say, paths overridden from the environment', () => {
    // As binge runs it: the config's own file tees need no --allow-files (they are the
    // operator's configuration, not a script's doing).
    const r = tributary(['run', CONFIG], events + '\n', env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const final = fs
      .readdirSync(env.TRIBUTARY_AGGLO_FINAL_EVENTS)
      .map((f) => JSON.parse(fs.readFileSync(path.join(env.TRIBUTARY_AGGLO_FINAL_EVENTS, f), 'utf8')));
    expect(fs.readdirSync(env.TRIBUTARY_AGGLO_RAW_EVENTS)).toHaveLength(2);
    expect(final.map((e) => e['internal:aggregation:OrderPipeline']['amount:AggSum'].value).sort()).toEqual([2, 5]);
    expect(final.find((e) => e.priority === 'yes')).toMatchObject({ skuCode: 'X9', 'internal:name': 'OrderPipeline' });
  });

  it('takes its events from any source kind and sends results to any sink (--agglo-input, --agglo-output)', () => {
    const file = path.join(dir, 'events.ndjson');
    fs.writeFileSync(file, events + '\n');
    const r = tributary(
      ['run', '--agglo-input', JSON.stringify({ kind: 'file_source', options: { path: file } }), '--agglo-output', 'stdout_sink', CONFIG],
      '',
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.filter((e) => e['internal:name'] === 'OrderPipeline')).toHaveLength(2);
    expect(out.map((e) => e.amount).sort()).toEqual(expect.arrayContaining([2, 3]));
  });

  it('refuses a malformed --agglo-input, naming the flag', () => {
    const r = tributary(['run', '--agglo-input', '{"options":{}}', CONFIG], '', env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--agglo-input: JSON must be an object with a string "kind"/);
  });
});
