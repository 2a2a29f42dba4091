import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'bad-core');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the repository's config over the fixture tree's lib/. */
function cruise(outputType: 'json' | 'err'): { stdout: string; exitCode: number } {
  // The package's exports map hides its bin, so it is addressed by path.
  const bin = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
  const args = [bin, 'lib', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', outputType];
  let stdout: string;
  let exitCode = 0;
  try {
    stdout = execFileSync(process.execPath, args, { cwd: FIXTURE, encoding: 'utf8' });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    stdout = err.stdout;
    exitCode = err.status;
  }
  return { stdout, exitCode };
}

describe('dependency rule (.dependency-cruiser.cjs)', () => {
  const violations = (JSON.parse(cruise('json').stdout) as { summary: { violations: Violation[] } }).summary.violations;
  const found = violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();

  it('reports a core module importing a family, statically, lazily (require), dynamically (import()) or for types only', () => {
    expect(found.filter((f) => f.startsWith('core-imports-no-plugin'))).toEqual([
      'core-imports-no-plugin: lib/lua/dynamic.ts -> lib/windows/y.ts',
      'core-imports-no-plugin: lib/network/loads-plugins.ts -> lib/plugins.ts',
      'core-imports-no-plugin: lib/network/x.ts -> lib/windows/y.ts',
      'core-imports-no-plugin: lib/nodes/lazy.ts -> lib/connectors/c.ts',
      'core-imports-no-plugin: lib/nodes/typed.ts -> lib/connectors/c.ts',
    ]);
  });

  it('reports windows and connectors importing each other, and the library importing specs', () => {
    expect(found.filter((f) => !f.startsWith('core-imports-no-plugin'))).toEqual([
      'connectors-not-windows: lib/connectors/uses-window.ts -> lib/windows/y.ts',
      'lib-not-tests: lib/nodes/uses-spec.ts -> spec/helper.ts',
      'windows-not-connectors: lib/windows/uses-connector.ts -> lib/connectors/c.ts',
    ]);
  });

  it('allows families, the CLI, the plugin loader and testing helpers to import the core and families', () => {
    const allowedFrom = ['lib/windows/y.ts', 'lib/cli/main.ts', 'lib/testing/t.ts', 'lib/plugins.ts'];
    expect(violations.filter((v) => allowedFrom.includes(v.from))).toEqual([]);
  });

  it('fails the command `npm run lint:deps` runs (err output) with a non-zero exit naming the rule', () => {
    const { stdout, exitCode } = cruise('err');
    expect(exitCode).not.toBe(0);
    expect(stdout).toContain('core-imports-no-plugin: lib/network/x.ts → lib/windows/y.ts');
  }, 60_000);
});
