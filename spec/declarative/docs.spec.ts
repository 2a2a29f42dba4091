import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { checkDocument } from '../../lib/declarative/shape';
import { networkJsonSchema } from '../../lib/declarative/schema';
import { createRegistry } from '../../lib/nodes/index';
import { builtinPlugins } from '../../lib/plugins';
import { validate } from './json-schema-check';

const root = join(__dirname, '..', '..');
const page = readFileSync(join(root, 'docs/pipelines.md'), 'utf8');

describe('docs/pipelines.md', () => {
  it('shows the example files exactly as they are in examples/declarative', () => {
    const blocks = [...page.matchAll(/<!-- example: (examples\/declarative\/[\w.-]+) -->\n```yaml\n([\s\S]*?)```/g)];
    expect(blocks.map((b) => b[1])).toEqual(['examples/declarative/network.yaml', 'examples/declarative/pipeline.yaml']);
    for (const [, file, text] of blocks) expect(text).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it("every whole network it shows (YAML or JSON) is valid: the builder's shape check and the JSON Schema", () => {
    const schema = networkJsonSchema(createRegistry({ plugins: builtinPlugins() }));
    const networks = [...page.matchAll(/```(yaml|json)\n([\s\S]*?)```/g)]
      .map((b) => parse(b[2], { merge: true }) as unknown)
      .filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null && 'nodes' in v);
    expect(networks.length).toBeGreaterThanOrEqual(4);
    for (const doc of networks) {
      expect(() => checkDocument(doc, { file: 'docs/pipelines.md' })).not.toThrow();
      expect(validate(schema, doc)).toEqual([]);
    }
  });
});
