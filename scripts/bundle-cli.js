#!/usr/bin/env node
'use strict';
// Bundles the `tributary` command into dist/cli.js (run by `npm run build` after tsc).
//
// Why: start-up. Loading the CLI from dist/lib reads ~600 files (RxJS's CommonJS index alone
// is ~400); one bundle with RxJS's ES modules tree-shaken starts in about two thirds of the
// time. Libraries the CLI loads only on demand (TypeORM and the database drivers, the bus
// clients, prom-client, Graphviz in WebAssembly, pino, ts-node) stay external, and so does the package itself: plugins and host modules
// that require('tributary') get this bundle's own modules (lib/cli/hosts.ts), so there is one
// Tributary per process. `import 'tributary'` in programs is unaffected: it is dist/lib.
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const external = [
  'typeorm',
  'sqlite3',
  'mysql2',
  'pg',
  'nats',
  'amqplib',
  'mqtt',
  'ioredis',
  'prom-client',
  '@viz-js/viz',
  'pino',
  'reflect-metadata',
  'ts-node',
  'typescript',
  'tributary',
];

// RxJS's package exports pick its CommonJS build for Node; its ES build tree-shakes.
const rxjsEsm = {
  name: 'rxjs-esm',
  setup(build) {
    build.onResolve({ filter: /^rxjs(\/(testing|operators))?$/ }, (args) => ({
      path: path.join(root, 'node_modules/rxjs/dist/esm', args.path.slice('rxjs'.length), 'index.js'),
    }));
  },
};

esbuild
  .build({
    entryPoints: [path.join(root, 'lib/cli/index.ts')],
    outfile: path.join(root, 'dist/cli.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig: path.join(root, 'tsconfig.build.json'),
    plugins: [rxjsEsm],
    external,
    keepNames: true,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
