import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { runCommand } from '../../lib/cli/commands/run';
import { CliError, EXIT } from '../../lib/cli/exit';
import { collector, networkFile, tempDir } from './helpers';

/** Issue 16, mode 1: `tributary run net.yaml --input events.ndjson` (one-shot). */
describe('run --input (one-shot)', () => {
  const dir = tempDir();
  const net = networkFile(dir);
  const opts = { quiet: true, logFormat: 'json' as const };

  it('feeds each line as one event, writes the replies to stdout and exits 0 once everything settled', async () => {
    const input = path.join(dir, 'ok.ndjson');
    writeFileSync(input, Array.from({ length: 50 }, (_, i) => JSON.stringify({ n: i + 1 })).join('\n') + '\n');
    const stdout = collector();
    const stderr = collector();
    const code = await runCommand([net], { ...opts, input }, { stdout, stderr });
    expect(stderr.text()).toBe('');
    expect(code).toBe(EXIT.OK);
    const out = stdout
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.sort((a, b) => a.n - b.n)).toEqual(Array.from({ length: 50 }, (_, i) => ({ n: i + 1, score: 2 * (i + 1) })));
  });

  it('reads standard input with --input - and exits 3 naming bad lines and failed events', async () => {
    const lines = ['{"n":1}', 'not json', '', '{"n":3,"fail":true}', '{"n":4}'].join('\n') + '\n';
    const stdout = collector();
    const stderr = collector();
    const code = await runCommand([net], { ...opts, input: '-', stdin: Readable.from([lines]), stats: true }, { stdout, stderr });
    expect(code).toBe(EXIT.EVENTS_FAILED);
    expect(stdout.text()).toBe('{"n":1,"score":2}\n{"n":4,"score":8}\n');
    expect(stderr.text()).toContain('stdin:2: not JSON');
    expect(stderr.text()).toContain('stdin:4: event failed: ');
    expect(stderr.text()).toContain('cannot score 3');
    const stats = JSON.parse(stderr.text().slice(stderr.text().indexOf('{\n'), stderr.text().lastIndexOf('}') + 1));
    expect(stats.input).toEqual({ lines: 4, bad: 1, acked: 2, failed: 1, unsettled: 0 });
  });

  it('exits 3 for an input with a line that is not JSON even when every event succeeded', async () => {
    const stderr = collector();
    const code = await runCommand(
      [net],
      { ...opts, input: '-', stdin: Readable.from(['{"n":1}\n{oops\n']) },
      { stdout: collector(), stderr },
    );
    expect(code).toBe(EXIT.EVENTS_FAILED);
    expect(stderr.text()).toContain('input: 2 lines, 1 processed, 1 not JSON, 0 failed, 0 unsettled');
  });

  it('is a usage error (exit 2) when the input file is missing or the input node is ambiguous', async () => {
    await expect(
      runCommand([net], { ...opts, input: path.join(dir, 'nope.ndjson') }, { stdout: collector(), stderr: collector() }),
    ).rejects.toMatchObject({
      exitCode: EXIT.USAGE,
      message: expect.stringContaining('nope.ndjson'),
    });
    await expect(
      runCommand(
        [net],
        { ...opts, input: '-', inputNode: 'score', stdin: Readable.from([]) },
        { stdout: collector(), stderr: collector() },
      ),
    ).rejects.toThrow(CliError);
    const two = path.join(dir, 'two.yaml');
    writeFileSync(
      two,
      'nodes:\n  - { name: a, kind: ticker, options: { interval: 1s } }\n  - { name: b, kind: ticker, options: { interval: 1s } }\n  - { name: out, kind: reply }\nedges:\n  - { from: a, to: out }\n  - { from: b, to: out }\n',
    );
    await expect(
      runCommand([two], { ...opts, input: '-', stdin: Readable.from([]) }, { stdout: collector(), stderr: collector() }),
    ).rejects.toThrow(
      /cannot tell which source takes the input \(the sources are 'a' \(ticker\), 'b' \(ticker\)\); name it with --input-node/,
    );
  });

  it('feeds the node named by --input-node and leaves the other sources as built', async () => {
    const file = path.join(dir, 'named.yaml');
    const out = path.join(dir, 'named.out.ndjson');
    writeFileSync(
      file,
      `nodes:\n  - { name: a, kind: ticker, options: { interval: 1h } }\n  - { name: b, kind: stdin_source }\n  - { name: out, kind: file_sink, options: { path: ${JSON.stringify(out)} } }\nedges:\n  - { from: a, to: out }\n  - { from: b, to: out }\n`,
    );
    const code = await runCommand(
      [file],
      { ...opts, allowFiles: true, input: '-', inputNode: 'a', stdin: Readable.from(['{"x":1}\n{"x":2}\n']) },
      { stdout: collector(), stderr: collector() },
    );
    expect(code).toBe(EXIT.OK);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const written = (require('node:fs') as typeof import('node:fs')).readFileSync(out, 'utf8');
    expect(
      written
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ x: 1 }, { x: 2 }]);
  });
});
