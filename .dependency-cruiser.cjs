// The plugin boundary (DESIGN.md §3): arrows point from plugins to the core, never back.
// Paths are relative to the directory depcruise runs in (the repository root in CI; the
// fixture directory in spec/package/dependency-rule.spec.ts).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-imports-no-plugin',
      severity: 'error',
      comment:
        'The core (event, delivery, operators, network, core nodes, util, the Lua facade) imports no family: windows, connectors, the CLI and the plugin loader depend on the core, not the other way round.',
      from: {
        path: '^lib/',
        // lib/cluster (scale-out) sits on top like the CLI: it builds networks with every plugin and talks NATS.
        pathNot: ['^lib/(windows|connectors|eventstore|cli|testing|cluster)/', '^lib/plugins\\.ts$'],
      },
      to: {
        path: ['^lib/(windows|connectors|eventstore|cli)/', '^lib/plugins\\.ts$'],
      },
    },
    {
      name: 'windows-not-connectors',
      severity: 'error',
      comment: 'Families are independent plugins: SQL windows do not import connectors.',
      from: { path: '^lib/windows/' },
      to: { path: '^lib/connectors/' },
    },
    {
      name: 'connectors-not-windows',
      severity: 'error',
      comment: 'Families are independent plugins: connectors do not import SQL windows.',
      from: { path: '^lib/connectors/' },
      to: { path: '^lib/windows/' },
    },
    {
      name: 'lib-not-tests',
      severity: 'error',
      comment: 'The library does not import specs, examples or benchmarks.',
      from: { path: '^lib/' },
      to: { path: '^(spec|examples|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Count `import type` and type-only imports too (a type arrow is still an arrow), besides
    // static imports, dynamic import() and require() calls, which are detected by default.
    tsPreCompilationDeps: true,
    moduleSystems: ['cjs', 'es6'],
    enhancedResolveOptions: {
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
  },
};
