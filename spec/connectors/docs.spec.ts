import { builtinPlugins } from '../../lib/plugins';
import fs from 'node:fs';
import path from 'node:path';
import { createRegistry } from 'tributary';
import { connectorKinds, renderConnectorDocs } from 'tributary/connectors';

const PAGE = path.join(__dirname, '..', '..', 'docs', 'connectors.md');

describe('docs/connectors.md', () => {
  const text = renderConnectorDocs(connectorKinds);
  if (process.env.TRIBUTARY_UPDATE_DOCS) fs.writeFileSync(PAGE, text);

  it('is the page renderConnectorDocs makes from the registry (regenerate: TRIBUTARY_UPDATE_DOCS=1 npx jest spec/connectors/docs.spec.ts)', () => {
    expect(fs.readFileSync(PAGE, 'utf8')).toBe(text);
  });

  it('has a section with every option of every connector kind, and examples', () => {
    for (const kind of connectorKinds) {
      expect(text).toContain(`### ${kind.name}\n`);
      for (const option of Object.keys(kind.options)) expect(text).toContain(`| \`${option}\` |`);
      expect(text).toContain(kind.example);
      if (kind.luaExample) expect(text).toContain(kind.luaExample);
    }
  });

  it('is pure: a changed option description changes the page', () => {
    const [first, ...rest] = connectorKinds;
    const changed = { ...first, options: { ...first.options, extra: { type: 'string' as const, description: 'a new knob' } } };
    expect(renderConnectorDocs([changed, ...rest])).toContain('| `extra` | string |  | a new knob |');
    expect(renderConnectorDocs(connectorKinds)).toBe(text);
  });

  it('every connector kind is in the registry the built-in plugins make', () => {
    const registry = createRegistry({ plugins: builtinPlugins() });
    for (const kind of connectorKinds) expect(registry.get(kind.name)).toBe(kind);
  });
});

describe('connector TypeScript examples', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const ts = require('typescript') as typeof import('typescript');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const { Network } = require('tributary') as typeof import('tributary');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test, after its set-up
  const { connectors } = require('tributary/connectors') as typeof import('tributary/connectors');
  const env = { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', TELEGRAM_BOT_TOKEN: '1:x', TELEGRAM_CHAT_ID: '42' };
  beforeAll(() => Object.assign(process.env, env));
  afterAll(() => {
    for (const k of Object.keys(env)) delete process.env[k];
  });

  it.each(connectorKinds.map((k) => [k.name, k.example]))('%s: the example builds the node', (name, example) => {
    const js = ts.transpile(example, { target: ts.ScriptTarget.ES2022 });
    const net = new Network({ plugins: builtinPlugins() });
    new Function('net', 'connectors', js)(net, connectors);
    expect(net.toJSON().nodes.map((n) => n.kind)).toEqual([name]);
  });
});
