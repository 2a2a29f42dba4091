/**
 * CLI start-up: `tributary run` of a one-node-pair script with `--for 0s`, against `node -e ''`
 * (the floor any Node program pays). Each run is its own fresh process; the two commands
 * alternate, so machine noise hits both alike. Prints medians, the spread (interquartile
 * range) and the ratio, and records them in bench/records.json.
 *
 *   npm run build && npx ts-node --transpile-only bench/startup.ts [rounds]
 *
 * Issue 8's target: ratio ≤ 2. (`hyperfine -N "node -e ''" "node bin/tributary.js run …"`
 * measures the same thing if you have it.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const rounds = Number(process.argv[2] ?? 21);
const script = path.join(mkdtempSync(path.join(os.tmpdir(), 'tb-startup-')), 'one.lua');
writeFileSync(script, 'local tb = require("tributary")\ntb.create_ticker("t", "1s")\ntb.create_discarder("d")\ntb.link("t", "d")\n');

const sides = {
  node: [process.execPath, '-e', ''],
  tributary: [process.execPath, path.join(root, 'bin', 'tributary.js'), 'run', script, '--for', '0s'],
};

function time(argv: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

const samples: Record<keyof typeof sides, number[]> = { node: [], tributary: [] };
for (const argv of Object.values(sides)) time(argv); // warm the file cache
for (let i = 0; i < rounds; i++) {
  for (const [name, argv] of Object.entries(sides) as [keyof typeof sides, string[]][]) samples[name].push(time(argv));
}
const stats = Object.fromEntries(
  Object.entries(samples).map(([name, xs]) => {
    const s = [...xs].sort((a, b) => a - b);
    return [name, { medianMs: quantile(s, 0.5), q1Ms: quantile(s, 0.25), q3Ms: quantile(s, 0.75) }];
  }),
) as Record<keyof typeof sides, { medianMs: number; q1Ms: number; q3Ms: number }>;
const ratio = stats.tributary.medianMs / stats.node.medianMs;
for (const [name, s] of Object.entries(stats)) {
  console.log(`${name.padEnd(10)} median ${s.medianMs.toFixed(1)} ms  (IQR ${s.q1Ms.toFixed(1)}–${s.q3Ms.toFixed(1)})`);
}
console.log(`tributary run / node -e '': ${ratio.toFixed(2)}× over ${rounds} alternating rounds (target ≤ 2×)`);

const file = path.join(root, 'bench', 'records.json');
let results: Record<string, unknown> = {};
try {
  results = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  /* first run */
}
results.startup = { date: new Date().toISOString(), rounds, ...stats, ratio };
writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
