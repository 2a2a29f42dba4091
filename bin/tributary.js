#!/usr/bin/env node
'use strict';
// The `tributary` command. It runs the compiled library in dist/ (built by `npm run build`,
// which npm's `prepare` script runs on `npm install` / `npm ci`).
const path = require('node:path');

let cli;
try {
  cli = require(path.join(__dirname, '..', 'dist', 'lib', 'cli', 'index.js'));
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes(path.join('dist', 'lib', 'cli'))) {
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
