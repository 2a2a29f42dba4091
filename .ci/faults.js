// Prints the fault suite's counts (one JSON line per case, written by spec/fault/counts.ts) as a table.
const fs = require('fs');
const file = process.argv[2];
const rows = fs.existsSync(file)
  ? fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
  : [];
if (rows.length === 0) {
  console.log('fault suite: no counts were written');
  process.exit(1);
}
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('case', 20)} ${pad('sent', 6)} ${pad('received', 9)} ${pad('lost', 5)} ${pad('dups', 5)} ${pad('cap', 4)} fault`);
for (const r of rows) {
  console.log(
    `${pad(r.name, 20)} ${pad(r.sent, 6)} ${pad(r.received, 9)} ${pad(r.lost, 5)} ${pad(r.duplicates, 5)} ${pad(r.cap ?? '-', 4)} ${r.fault}`,
  );
}
const lost = rows.reduce((n, r) => n + r.lost, 0);
console.log(`fault suite: ${rows.length} cases, ${lost} events lost`);
if (lost > 0) process.exit(1);
