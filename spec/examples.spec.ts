import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualTime, textRecorder } from 'tributary/testing';
import { buildTickerNetwork } from '../examples/quickstart/ticker';

const root = join(__dirname, '..');

describe('the README', () => {
  it('shows the quickstart example exactly as it is in examples/', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const file = readFileSync(join(root, 'examples/quickstart/ticker.ts'), 'utf8');
    const block = /<!-- example: examples\/quickstart\/ticker\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(file);
  });

  it('runs the quickstart example: 25 dots in 10 virtual seconds', () => {
    const t = new VirtualTime();
    const out = textRecorder(t.scheduler);
    const report = t.run(buildTickerNetwork({ scheduler: t.scheduler, output: out }), '10s');
    expect(out.text).toBe('.'.repeat(25));
    expect(report.stats.tick_printer.in).toBe(25);
  });
});
