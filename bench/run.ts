/**
 * The benchmark runner (`npm run bench`): runs every case in `bench/cases/*.case.ts` side by
 * side, each side in its own fresh process, alternating ours/anchor for `--pairs` pairs
 * (default 5), and prints the medians, the ratio ours/anchor with its spread (min–max of the
 * per-pair ratios) and each side's peak RSS. Writes `bench/results.json` (an array, one entry
 * per case; entries of cases not run this time are kept).
 *
 *   npm run bench -- --pairs 7 --filter linear
 *
 * See bench/README.md for the contract and the profiling recipe.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchCase, Side, SideReport } from './case';

/** One line of bench/results.json. */
export interface CaseResult {
  case: string;
  /** Median ms of our side. */
  ours: number;
  /** Median ms of the anchor. */
  anchor: number;
  /** ours / anchor (medians). */
  ratio: number;
  /** [min, max] of the per-pair ratios. */
  spread: [number, number];
  /** Ratio of the median CPU times (user + system), when both sides report `cpuMs`: steadier than wall time on a busy machine. */
  cpuRatio: number | null;
  /** Median peak RSS of each side, MB. */
  oursRssMb: number;
  anchorRssMb: number;
  target: number | null;
  oursLabel: string;
  anchorLabel: string;
  pairs: number;
  date: string;
}

const root = path.resolve(__dirname, '..');

function parseArgs(argv: string[]): { pairs: number; filter?: string } {
  let pairs = 5;
  let filter: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--pairs') pairs = Number(argv[++i]);
    else if (a.startsWith('--pairs=')) pairs = Number(a.slice(8));
    else if (a === '--filter') filter = argv[++i];
    else if (a.startsWith('--filter=')) filter = a.slice(9);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--pairs N (default 5, at least 1)] [--filter SUBSTRING]');
      process.exit(0);
    } else throw new Error(`unknown argument '${a}' (try --help)`);
  }
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`--pairs must be a positive integer, got ${pairs}`);
  return { pairs, filter };
}

/** Loads every case file, sorted by name. */
function loadCases(): BenchCase[] {
  const dir = path.join(__dirname, 'cases');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.case.ts'))
    .sort()
    .map((f) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- case files are discovered at run time
      const mod = require(path.join(dir, f)) as { default?: BenchCase };
      const c = mod.default;
      if (!c || typeof c.name !== 'string' || !c.ours?.script || !c.anchor?.script) {
        throw new Error(`bench/cases/${f}: the default export must be { name, ours: { label, script }, anchor: { label, script } }`);
      }
      return c;
    });
}

/** Runs one side in a fresh process and reads its last stdout line. */
function runSide(c: BenchCase, side: Side): SideReport {
  const args = ['--expose-gc', '-r', 'ts-node/register/transpile-only', side.script, ...(side.args ?? [])];
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const lines = (r.stdout ?? '').trim().split('\n');
  const last = lines[lines.length - 1];
  if (r.status !== 0) {
    throw new Error(`case '${c.name}', side '${side.label}' (${side.script}) exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  }
  try {
    const report = JSON.parse(last) as SideReport;
    if (typeof report.ms !== 'number' || typeof report.rssMb !== 'number') throw new Error('ms and rssMb must be numbers');
    return report;
  } catch (e) {
    throw new Error(
      `case '${c.name}', side '${side.label}': the last stdout line is not a report ({ ms, rssMb }): ${String(last)} (${String(e)})`,
    );
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runCase(c: BenchCase, pairs: number): CaseResult {
  const ours: SideReport[] = [];
  const anchor: SideReport[] = [];
  for (let i = 0; i < pairs; i++) {
    ours.push(runSide(c, c.ours));
    anchor.push(runSide(c, c.anchor));
    // Both sides must compute the same answer when they report one.
    const a = ours[i].result;
    const b = anchor[i].result;
    if (a !== undefined && b !== undefined && JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Error(`case '${c.name}': the sides disagree: ours gave ${JSON.stringify(a)}, the anchor ${JSON.stringify(b)}`);
    }
    process.stdout.write('.');
  }
  const ratios = ours.map((o, i) => o.ms / anchor[i].ms);
  const cpu = (rs: SideReport[]) => (rs.every((r) => typeof r.cpuMs === 'number') ? median(rs.map((r) => r.cpuMs as number)) : NaN);
  const cpuRatio = cpu(ours) / cpu(anchor);
  const oursMs = median(ours.map((r) => r.ms));
  const anchorMs = median(anchor.map((r) => r.ms));
  return {
    case: c.name,
    ours: oursMs,
    anchor: anchorMs,
    ratio: oursMs / anchorMs,
    spread: [Math.min(...ratios), Math.max(...ratios)],
    cpuRatio: Number.isFinite(cpuRatio) ? cpuRatio : null,
    oursRssMb: median(ours.map((r) => r.rssMb)),
    anchorRssMb: median(anchor.map((r) => r.rssMb)),
    target: c.target ?? null,
    oursLabel: c.ours.label,
    anchorLabel: c.anchor.label,
    pairs,
    date: new Date().toISOString(),
  };
}

function table(results: CaseResult[]): string {
  const head = ['case', 'ours ms', 'anchor ms', 'ratio', 'spread', 'target', 'CPU ratio', 'RSS ours/anchor MB'];
  const rows = results.map((r) => [
    r.case,
    r.ours.toFixed(1),
    r.anchor.toFixed(1),
    `${r.ratio.toFixed(2)}×`,
    `${r.spread[0].toFixed(2)}–${r.spread[1].toFixed(2)}`,
    r.target === null ? '' : `≤ ${r.target}${r.ratio <= r.target ? '' : ' ✗'}`,
    r.cpuRatio === null ? '' : `${r.cpuRatio.toFixed(2)}×`,
    `${r.oursRssMb.toFixed(0)} / ${r.anchorRssMb.toFixed(0)}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function main(): void {
  const { pairs, filter } = parseArgs(process.argv.slice(2));
  const cases = loadCases().filter((c) => filter === undefined || c.name.includes(filter));
  if (cases.length === 0) throw new Error(`no case matches '${filter}'`);
  console.log(`# ${cases.length} case(s), ${pairs} alternating pairs each, node ${process.version}\n`);
  const results: CaseResult[] = [];
  for (const c of cases) {
    process.stdout.write(`${c.name} `);
    results.push(runCase(c, pairs));
    process.stdout.write('\n');
  }
  console.log(table(results));
  for (const c of cases) if (c.note) console.log(`  ${c.name}: ${c.note}`);
  const file = path.join(__dirname, 'results.json');
  let previous: CaseResult[] = [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(parsed)) previous = parsed as CaseResult[];
  } catch {
    /* first run */
  }
  const byName = new Map(previous.map((r) => [r.case, r]));
  for (const r of results) byName.set(r.case, r);
  writeFileSync(
    file,
    JSON.stringify(
      [...byName.values()].sort((a, b) => a.case.localeCompare(b.case)),
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwritten: bench/results.json`);
}

try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
}
