#!/usr/bin/env node
'use strict';
// The `tributary` command. It runs the bundled CLI, dist/cli.js (start-up: one file instead of
// hundreds), or the compiled library in dist/lib when there is no bundle; `npm run build`
// makes both, and npm's `prepare` script runs it on `npm install` / `npm ci`.
const fs = require('node:fs');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'cli.js');
const entry = fs.existsSync(bundle) ? bundle : path.join(dist, 'lib', 'cli', 'index.js');
let cli;
try {
  cli = require(entry);
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(entry)) {
    process.stderr.write('tributary: the compiled library is missing; run `npm run build` first\n');
    process.exit(2);
  }
  throw e;
}

// `tributary run … | head` closes our stdout early: that is the reader's choice, not a failure.
process.stdout.on('error', (e) => {
  if (e && e.code === 'EPIPE') process.exit(0);
  throw e;
});

cli.main(process.argv).then(
  (code) => {
    // Exit explicitly: a drained network may leave handles (sockets, timers) that would keep us alive.
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`tributary: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
