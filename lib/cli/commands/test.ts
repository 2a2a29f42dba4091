import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorMessage } from '../../errors';
import { CliError, EXIT, type CliIO } from '../exit';
import { runCase, type CaseResult } from '../testing/run-case';
import { loadTestFile } from '../testing/testfile';

/** The formats `tributary test --reporter` prints. */
export const TEST_REPORTERS = ['text', 'json', 'tap'] as const;
export type TestReporter = (typeof TEST_REPORTERS)[number];

/** Options of `tributary test`. */
export interface TestOptions {
  reporter?: TestReporter;
  /** Where relative paths and the search start; default the working directory. */
  cwd?: string;
}

/** How one test file went: its cases, or why it could not be read. */
export interface FileResult {
  file: string;
  cases: CaseResult[];
  /** Set when the file itself is broken (a Lua error, a malformed table). */
  error?: string;
}

const SUFFIX = '.test.lua';
/** Test files: Lua chunks, or the same table as YAML or JSON. */
const TEST_FILE = /\.test\.(lua|ya?ml|json)$/;

/**
 * `tributary test [paths…]`: runs the `*.test.lua` (or `*.test.yaml`, `*.test.yml`,
 * `*.test.json`) files given (directories are searched, as
 * is the working directory when no path is given; `node_modules` and dot-directories are
 * skipped) on virtual time and prints a line per case, with a frame-by-frame diff for each
 * failure. Exit 0 when every case passed, 1 when one failed, 2 when a test file is broken or
 * none was found. Output is the same byte for byte on every run: no timings, no wall clock.
 *
 * @example
 * ```ts
 * process.exitCode = await testCommand(['examples'], { reporter: 'tap' }, process);
 * ```
 */
export async function testCommand(paths: string[], options: TestOptions, io: CliIO): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const files = findTestFiles(paths.length > 0 ? paths : ['.'], cwd);
  if (files.length === 0) {
    throw new CliError(
      EXIT.USAGE,
      `no test files (*${SUFFIX}) found in ${paths.length > 0 ? paths.join(', ') : cwd} (nor *.test.yaml, *.test.yml, *.test.json)`,
    );
  }
  // fengari formats os.date strings in local time: a test's output must not depend on where it runs.
  const tz = process.env.TZ;
  process.env.TZ = 'UTC';
  const results: FileResult[] = [];
  const reporter = options.reporter ?? 'text';
  try {
    for (const file of files) {
      const shown = path.relative(cwd, file) || file;
      let suite;
      try {
        suite = loadTestFile(path.relative(process.cwd(), file) || file);
      } catch (e) {
        const result = { file: shown, cases: [], error: errorMessage(e) };
        results.push(result);
        if (reporter === 'text') io.stdout.write(textFile(result));
        continue;
      }
      const result: FileResult = { file: shown, cases: [] };
      for (const tc of suite.cases) result.cases.push(await runCase(suite, tc));
      results.push(result);
      if (reporter === 'text') io.stdout.write(textFile(result));
    }
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  const cases = results.flatMap((r) => r.cases);
  const failed = cases.filter((c) => !c.ok).length;
  const broken = results.filter((r) => r.error !== undefined).length;
  if (reporter === 'json')
    io.stdout.write(JSON.stringify({ passed: cases.length - failed, failed, broken, files: results }, null, 2) + '\n');
  else if (reporter === 'tap') io.stdout.write(tap(results));
  else io.stdout.write(summary(cases.length, failed, broken, results.length));
  return broken > 0 ? EXIT.USAGE : failed > 0 ? EXIT.RUNTIME : EXIT.OK;
}

/**
 * The test files under the given paths (files as given, directories searched for
 * `*.test.lua`, `*.test.yaml`, `*.test.yml` and `*.test.json`), absolute and sorted, each once.
 *
 * @example
 * ```ts
 * findTestFiles(['examples'], process.cwd()); // ['/…/examples/advanced/network.test.lua', …]
 * ```
 */
export function findTestFiles(paths: string[], cwd: string): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && TEST_FILE.test(entry.name)) found.add(full);
    }
  };
  for (const p of paths) {
    const full = path.resolve(cwd, p);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(full);
    } catch {
      throw new CliError(EXIT.USAGE, `no such file or directory: ${p}`);
    }
    if (stat.isDirectory()) walk(full);
    else found.add(full);
  }
  return [...found].sort();
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => (l === '' ? l : by + l))
    .join('\n');
}

function textFile(r: FileResult): string {
  const out = [r.file];
  if (r.error !== undefined) out.push(`  BROKEN  ${r.error}`);
  for (const c of r.cases) {
    out.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}`);
    for (const f of c.failures) out.push(indent(f.message, '        '));
    if (!c.ok && c.log.length > 0) out.push(indent(`log:\n${c.log.map((l) => `  ${l}`).join('\n')}`, '        '));
  }
  return out.join('\n') + '\n';
}

function summary(total: number, failed: number, broken: number, files: number): string {
  const parts = [`${total - failed} passed`, `${failed} failed`];
  if (broken > 0) parts.push(`${broken} broken file${broken === 1 ? '' : 's'}`);
  return `\n${total} case${total === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}: ${parts.join(', ')}\n`;
}

function tap(results: FileResult[]): string {
  const lines = ['TAP version 13'];
  let n = 0;
  for (const r of results) {
    if (r.error !== undefined) {
      lines.push(`not ok ${++n} - ${r.file}`, '  ---', `  message: ${JSON.stringify(r.error)}`, '  ...');
      continue;
    }
    for (const c of r.cases) {
      lines.push(`${c.ok ? 'ok' : 'not ok'} ${++n} - ${r.file} > ${c.name}`);
      if (c.ok) continue;
      lines.push('  ---', '  failures:');
      for (const f of c.failures) {
        lines.push(`    - check: ${f.check}`);
        if (f.node !== undefined) lines.push(`      node: ${JSON.stringify(f.node)}`);
        if (f.frame !== undefined) lines.push(`      frame: ${f.frame}`);
        lines.push('      message: |', indent(f.message, '        '));
      }
      lines.push('  ...');
    }
  }
  lines.push(`1..${n}`);
  return lines.join('\n') + '\n';
}
