import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Network } from 'tributary';
import { LuaRuntime } from 'tributary/lua';
import { windowsPlugin } from 'tributary/windows';

const root = join(__dirname, '..', '..');
const page = readFileSync(join(root, 'docs/windows.md'), 'utf8');

describe('docs/windows.md: aggregate_window', () => {
  it('shows examples/windows/aggregate.test.ts exactly as it is (jest runs the file)', () => {
    const block = /<!-- example: examples\/windows\/aggregate\.test\.ts -->\n```ts\n([\s\S]*?)```/.exec(page);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(readFileSync(join(root, 'examples/windows/aggregate.test.ts'), 'utf8'));
  });

  it('shows a Lua call that builds the node with those options', () => {
    const lua = /```lua\n(tb\.create_aggregate_window[\s\S]*?)```/.exec(page);
    expect(lua).not.toBeNull();
    const net = new Network({ plugins: [windowsPlugin()] });
    const runtime = new LuaRuntime(net);
    runtime.runString(`local tb = require('tributary')\n${lua![1]}`);
    runtime.close();
    expect(net.toJSON().nodes).toEqual([expect.objectContaining({ name: 'customer_liability', kind: 'aggregate_window' })]);
  });
});
