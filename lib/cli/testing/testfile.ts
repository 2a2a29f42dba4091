import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { isNetworkFile } from '../../declarative/load';
import { parseNetworkText } from '../../declarative/parse';
import { TributaryError, errorMessage } from '../../errors';
import { LuaRuntime } from '../../lua/runtime';
import { Network } from '../../network/network';
import { instructionClock } from '../../testing/lua';
import { suggest } from '../../util/suggest';
import { isPlainObject } from '../../util/values';
import { parseDuration } from '../../duration';
import { CliError, EXIT } from '../exit';

/** A marble diagram with its values, as a test file writes it. */
export interface MarbleSpec {
  marbles: string;
  values?: Record<string, unknown>;
}

/** What a case expects at one node: a diagram (frames and values) or the payloads in order. */
export type Expectation = { marbles: MarbleSpec } | { payloads: unknown[] };

/** One case of a test file, checked and with its durations in ms. */
export interface TestCase {
  name: string;
  /** Virtual time to run before the drain, in ms. */
  run: number;
  seed: number;
  inputs: Record<string, MarbleSpec>;
  expect: Record<string, Expectation>;
  acks: Record<string, MarbleSpec>;
  nacks: Record<string, MarbleSpec>;
  output?: string;
  stats: Record<string, Record<string, number>>;
}

/** A test file: the scripts under test, how to load them, and its cases. */
export interface TestFile {
  /** As given on the command line or found (relative to the working directory). */
  file: string;
  /** Absolute paths. */
  scripts: string[];
  requires: string[];
  plugins: string[];
  sandbox: boolean;
  allowFiles: boolean;
  cases: TestCase[];
}

const FILE_KEYS = ['script', 'scripts', 'require', 'plugins', 'sandbox', 'allow_files', 'cases'];
const CASE_KEYS = ['name', 'run', 'seed', 'values', 'inputs', 'expect', 'acks', 'nacks', 'output', 'stats'];
const STATS = ['in', 'out', 'errors', 'acked', 'nacked', 'dropped'];

/**
 * Reads a `*.test.lua` file: a Lua chunk (sandboxed, on a fixed clock and seed) returning a
 * table that declares the scripts under test and the cases; or a `*.test.yaml`
 * (`.yml`, `.json`) file holding the same table as data. Paths in it are relative to the
 * file. A malformed file is a `CliError` (exit 2) naming the file and the key.
 *
 * @example
 * ```ts
 * const suite = loadTestFile('examples/scripted/network.test.lua');
 * suite.cases[0].name; // '25 dots in 10 virtual seconds'
 * ```
 */
export function loadTestFile(file: string): TestFile {
  const value = isNetworkFile(file) ? readDataFile(file) : runTestScript(file);
  const bad = (what: string) => new CliError(EXIT.USAGE, `${file}: ${what}`);
  try {
    return parseTestFile(file, value);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw bad(errorMessage(e));
  }
}

function runTestScript(file: string): unknown {
  const runtime = new LuaRuntime(new Network(), { clock: () => 0, randomSeed: 0, budgetClock: instructionClock(), scriptTimeout: 10_000 });
  try {
    return runtime.runFile(file);
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  } finally {
    runtime.close();
  }
}

/** A `*.test.yaml` / `*.test.json` file: the same table as a `*.test.lua` returns, as data. */
function readDataFile(file: string): unknown {
  try {
    return parseNetworkText(readFileSync(file, 'utf8'), file).value;
  } catch (e) {
    throw new CliError(EXIT.USAGE, errorMessage(e));
  }
}

function parseTestFile(file: string, value: unknown): TestFile {
  const dir = path.dirname(path.resolve(file));
  const top = table(value, 'the file must return a table: return { script = "network.lua", cases = { … } }');
  checkKeys(top, FILE_KEYS, 'the returned table');
  const scripts = [...list(top.script, 'script'), ...list(top.scripts, 'scripts')].map((s) => path.resolve(dir, s));
  if (scripts.length === 0) throw new Error("name the script under test: script = 'network.lua'");
  const cases = top.cases;
  if (!Array.isArray(cases) || cases.length === 0)
    throw new Error('cases must be a non-empty list of tables: cases = { { name = …, run = "10s", … } }');
  const names = new Set<string>();
  const parsed = cases.map((c, i) => {
    const tc = parseCase(c, i + 1);
    if (names.has(tc.name)) throw new Error(`case ${i + 1}: another case is named '${tc.name}'`);
    names.add(tc.name);
    return tc;
  });
  return {
    file,
    scripts,
    requires: list(top.require, 'require').map((r) =>
      r.startsWith('.') || r.includes('/') || /\.[cm]?[jt]s$/.test(r) ? path.resolve(dir, r) : r,
    ),
    plugins: list(top.plugins, 'plugins').map((r) => (r.startsWith('.') || /\.[cm]?[jt]s$/.test(r) ? path.resolve(dir, r) : r)),
    sandbox: flag(top.sandbox, 'sandbox', true),
    allowFiles: flag(top.allow_files, 'allow_files', false),
    cases: parsed,
  };
}

function parseCase(value: unknown, n: number): TestCase {
  const c = table(value, `case ${n} must be a table`);
  const where = typeof c.name === 'string' && c.name !== '' ? `case '${c.name}'` : `case ${n}`;
  try {
    checkKeys(c, CASE_KEYS, 'a case');
    if (typeof c.name !== 'string' || c.name === '') throw new Error('give it a name: name = "what it shows"');
    if (c.run === undefined) throw new Error('say how long to run: run = "10s" (virtual time)');
    const run = parseDuration(c.run, 'run');
    const seed = c.seed === undefined ? 0 : Number(c.seed);
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${JSON.stringify(c.seed)}`);
    const values = c.values === undefined ? {} : table(c.values, 'values must be a table of marble letters');
    const marble = (v: unknown, what: string): MarbleSpec => {
      if (typeof v === 'string') return { marbles: v, values };
      const t = table(v, `${what} must be a marble string or { marbles = "…", values = { … } }`);
      checkKeys(t, ['marbles', 'values'], what);
      if (typeof t.marbles !== 'string') throw new Error(`${what}: marbles must be a string`);
      return {
        marbles: t.marbles,
        values: { ...values, ...(t.values === undefined ? {} : table(t.values, `${what}: values must be a table`)) },
      };
    };
    const byNode = <T>(v: unknown, key: string, f: (x: unknown, what: string) => T): Record<string, T> => {
      if (v === undefined) return {};
      const t = table(v, `${key} must be a table keyed by node name`);
      return Object.fromEntries(Object.entries(t).map(([node, x]) => [node, f(x, `${key}.${node}`)]));
    };
    const expectation = (v: unknown, what: string): Expectation => {
      if (isPlainObject(v) && 'payloads' in v) {
        checkKeys(v, ['payloads'], what);
        if (!Array.isArray(v.payloads)) throw new Error(`${what}: payloads must be a list`);
        return { payloads: v.payloads };
      }
      return { marbles: marble(v, what) };
    };
    const stats = byNode(c.stats, 'stats', (x, what) => {
      const t = table(x, `${what} must be a table of counters, e.g. { dropped = 15 }`);
      checkKeys(t, STATS, what);
      for (const [k, v] of Object.entries(t)) if (typeof v !== 'number') throw new Error(`${what}.${k} must be a number`);
      return t as Record<string, number>;
    });
    if (c.output !== undefined && typeof c.output !== 'string')
      throw new Error('output must be a string (what print and printing nodes wrote)');
    return {
      name: c.name,
      run,
      seed,
      inputs: byNode(c.inputs, 'inputs', marble),
      expect: byNode(c.expect, 'expect', expectation),
      acks: byNode(c.acks, 'acks', marble),
      nacks: byNode(c.nacks, 'nacks', marble),
      ...(c.output !== undefined ? { output: c.output as string } : {}),
      stats,
    };
  } catch (e) {
    throw new Error(`${where}: ${errorMessage(e)}`);
  }
}

function table(v: unknown, message: string): Record<string, unknown> {
  // Lua's empty table converts to an empty list.
  if (Array.isArray(v) && v.length === 0) return {};
  if (!isPlainObject(v)) throw new Error(message);
  return v;
}

function checkKeys(t: Record<string, unknown>, known: string[], where: string): void {
  for (const k of Object.keys(t)) {
    if (known.includes(k)) continue;
    const hint = suggest(k, known);
    throw new TributaryError(
      'BAD_OPTION',
      `${where}: unknown key '${k}' (known: ${known.join(', ')})${hint ? ` — did you mean '${hint}'?` : ''}`,
    );
  }
}

function list(v: unknown, key: string): string[] {
  if (v === undefined) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new Error(`${key} must be a path or a list of paths`);
}

function flag(v: unknown, key: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`${key} must be true or false`);
  return v;
}
