import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Network, nodes } from 'tributary';
import { createCliLogger, prettyLine } from '../../lib/cli/logging';
import { buildLoggedNetwork } from '../../examples/logging/pino-network';
import { chunkedSource } from '../../examples/logging/progress-source';

const root = join(__dirname, '..', '..');
const page = readFileSync(join(root, 'docs/logging.md'), 'utf8');

/** The fenced blocks of a language in the page, in order. */
function blocks(lang: string): string[] {
  return [...page.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

describe('docs/logging.md', () => {
  it.each(['examples/logging/pino-network.ts', 'examples/logging/progress-source.ts'])('shows %s exactly as it is', (file) => {
    const block = new RegExp(`<!-- example: ${file.replace(/[./]/g, '\\$&')} -->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(page);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(readFileSync(join(root, file), 'utf8'));
  });

  it('the pino example logs one line from the discarder, carrying node and kind, as the page shows', async () => {
    const lines: string[] = [];
    const net = buildLoggedNetwork({ write: (s: string) => void lines.push(s) });
    await net.start();
    await net.done();
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        level: 40,
        time: expect.any(Number),
        pid: process.pid,
        hostname: expect.any(String),
        node: 'void',
        kind: 'discarder',
        msg: expect.stringMatching(/^node 'void': error event \S+ from 'invert': cannot invert 0$/),
      },
    ]);
    const shown = JSON.parse(blocks('json').find((b) => b.includes("'invert'"))!);
    expect(Object.keys(shown)).toEqual(Object.keys(JSON.parse(lines[0])));
    expect(shown.msg).toMatch(/^node 'void': error event \S+ from 'invert': cannot invert 0$/);
  });

  it('the progress example reports read, total and lag through net.progress()', async () => {
    const net = new Network();
    net.add('chunks', chunkedSource(['abc', 'defgh']));
    net.add('void', nodes.discarder());
    net.link('chunks', 'void');
    await net.start();
    await net.done();
    expect(net.progress()).toEqual({ chunks: { read: 8, total: 8, lag: 0, unit: 'bytes' } });
  });

  it('the plain-object logger block runs and gets the messages', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded inside the test
    const ts = require('typescript') as typeof import('typescript');
    const block = blocks('ts').find((b) => b.includes('const alerts'))!;
    const js = ts.transpile(block, { target: ts.ScriptTarget.ES2022 });
    const { net, alerts } = new Function('Network', `${js}\nreturn { net, alerts };`)(Network) as { net: Network; alerts: string[] };
    net.add('in', nodes.from({ items: [0] }));
    net.add('fail', nodes.map({ fn: () => Promise.reject(new Error('nope')) }));
    net.add('void', nodes.discarder());
    net.link('in', 'fail');
    net.link('fail', 'void');
    await net.start();
    await net.done();
    expect(alerts).toEqual([expect.stringMatching(/^warning: node 'void': error event \S+ from 'fail': nope$/)]);
  });

  it("the CLI's JSON line shown has the fields a real line has, and the readable line is what prettyLine makes of it", () => {
    const shown = JSON.parse(blocks('json')[0]);
    const lines: string[] = [];
    createCliLogger({ stream: { write: (s) => void lines.push(s) } })
      .child({ node: 'void', kind: 'discarder' })
      .warn('x');
    expect(Object.keys(shown)).toEqual(Object.keys(JSON.parse(lines[0])));
    const readable = page.split('\n').find((l) => l.includes('WARN  [void discarder]'))!;
    expect(prettyLine(JSON.stringify(shown), false).replace(/^\S+ /, '')).toBe(readable.trim().replace(/^\S+ /, '') + '\n');
    const stopped = page.split('\n').find((l) => l.includes('INFO  network stopped'))!;
    const fields = { reason: 'finished', timedOut: false, in: 200000, out: 200000, errors: 4 };
    expect(prettyLine(JSON.stringify({ level: 'info', time: 0, msg: 'network stopped', ...fields }), false).replace(/^\S+ /, '')).toBe(
      stopped.trim().replace(/^\S+ /, '') + '\n',
    );
  });
});
