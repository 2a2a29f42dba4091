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

describe('examples/plugin (a third-party plugin)', () => {
  // Loaded the way a user's TypeScript loads it; 'tributary' resolves to this package.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const { sensorsPlugin, sensorThreshold } = require('../examples/plugin') as typeof import('../examples/plugin');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const { Network } = require('tributary') as typeof import('tributary');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const { luaScenario } = require('tributary/testing') as typeof import('tributary/testing');

  it('adds its kind through new Network({ plugins }) and lets only readings over the limit through, annotated', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
    const { nodes } = require('tributary') as typeof import('tributary');
    const net = new Network({ plugins: [sensorsPlugin] });
    const seen: unknown[] = [];
    net.add('in', nodes.from({ items: [{ temperature: 25 }, { temperature: 31 }, { humidity: 90 }] }));
    net.create('sensor_threshold', 'hot', { field: 'temperature', limit: 30 });
    net.add('out', nodes.sink({ fn: (p: unknown) => void seen.push(p) }));
    net.link('in', 'hot');
    net.link('hot', 'out');
    await net.start();
    const report = await net.done();
    expect(seen).toEqual([{ temperature: 31, alert: { field: 'temperature', value: 31, limit: 30, label: 'over limit' } }]);
    expect(report.stats.hot.dropped).toBe(2);
  });

  it('validates its options like a built-in kind', () => {
    expect(() => sensorThreshold({ field: 'temperature', limt: 30 } as never)).toThrow(/unknown option 'limt' .*did you mean 'limit'\?/);
    expect(() => sensorThreshold({ field: 'temperature' } as never)).toThrow(/option 'limit' is required/);
  });

  it('runs examples/plugin/network.lua with the plugin: its Lua function and kind, on a virtual clock', () => {
    const s = luaScenario({ plugins: [sensorsPlugin], files: [join(root, 'examples/plugin/network.lua')] });
    s.run('1s');
    expect(
      s.output.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).temperature),
    ).toEqual([32, 36, 32, 36]);
  });
});

describe('docs/plugins.md', () => {
  it('shows examples/plugin/index.ts exactly as it is', () => {
    const page = readFileSync(join(root, 'docs/plugins.md'), 'utf8');
    const block = /<!-- example: examples\/plugin\/index\.ts -->\n```ts\n([\s\S]*?)```/.exec(page);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(readFileSync(join(root, 'examples/plugin/index.ts'), 'utf8'));
  });
});

describe('docs/testing.md', () => {
  const page = readFileSync(join(root, 'docs/testing.md'), 'utf8');
  const blocks = [...page.matchAll(/<!-- example: (\S+) -->\n```\w+\n([\s\S]*?)```\n/g)];

  it('shows each example file exactly as it is (the files are run: examples/testing by jest, the .test.lua by tributary test)', () => {
    expect(blocks.map((b) => b[1])).toEqual([
      'examples/testing/operator.test.ts',
      'examples/testing/network.test.ts',
      'examples/testing/lua.test.ts',
      'examples/testing/window.test.ts',
      'examples/scripted/network.test.lua',
    ]);
    for (const [, file, text] of blocks) expect({ file, text }).toEqual({ file, text: readFileSync(join(root, file), 'utf8') });
  });

  it('teaches every helper of tributary/testing', () => {
    for (const name of [
      'startSync()',
      'VirtualTime',
      'VirtualClock',
      'luaScenario',
      'payloadOperator',
      'sourcePayloads',
      'DeliveryProbe',
      'rxjs-marbles/jest',
      'm.scheduler',
    ]) {
      expect(page).toContain(name);
    }
  });
});
