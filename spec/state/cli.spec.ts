import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../../lib/cli/commands/run';
import { CliError } from '../../lib/cli/exit';
import { openStateStore } from '../../lib/state/open';

/** `tributary run --state-store`: the flags, and state surviving from one run to the next. */
describe('tributary run --state-store / --checkpoint-interval', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'tb-state-cli-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const io = () => {
    const err: string[] = [];
    return { err, io: { stdout: { write: () => true }, stderr: { write: (t: string) => err.push(t) } } };
  };

  function script(): string {
    const file = path.join(dir, 'count.lua');
    writeFileSync(
      file,
      [
        'local tb = require("tributary")',
        'tb.create_ticker("tick", "5ms")',
        'tb.create_stateful("count", function(p) return "all" end, function(n) return { state = (n or 0) + 1 } end)',
        'tb.create_discarder("out")',
        'tb.link("tick", "count")',
        'tb.link("count", "out")',
      ].join('\n'),
    );
    return file;
  }

  it('checkpoints keyed state to the store and restores it in the next run', async () => {
    const url = `sqlite:${path.join(dir, 'state.db')}`;
    const file = script();
    const count = async () => {
      const kv = await openStateStore(url);
      const v = await kv.get<{ s: number }>('count/k/all');
      await kv.close();
      return v?.value.s ?? 0;
    };
    expect(await runCommand([file], { stateStore: url, checkpointInterval: '20ms', for: '150ms', quiet: true }, io().io)).toBe(0);
    const first = await count();
    expect(first).toBeGreaterThan(0);
    expect(await runCommand([file], { stateStore: url, for: '150ms', quiet: true }, io().io)).toBe(0);
    // The second run started from the first run's count.
    expect(await count()).toBeGreaterThan(first);
  });

  it('refuses a bad store URL, a bad interval, and an interval without a store (usage errors)', async () => {
    const file = script();
    const bad = (o: Parameters<typeof runCommand>[1]) => runCommand([file], { ...o, quiet: true }, io().io).catch((e: unknown) => e);
    const e1 = await bad({ stateStore: 'ftp://u:hunter2@h/x' });
    expect(e1).toBeInstanceOf(CliError);
    expect((e1 as CliError).message).toMatch(/^--state-store: state store: unsupported URL 'ftp:\/\/u:\*\*\*@h\/x'/);
    const e2 = await bad({ checkpointInterval: '1s' });
    expect((e2 as CliError).message).toBe('--checkpoint-interval needs --state-store <url>');
    const e3 = await bad({ stateStore: 'memory:', checkpointInterval: 'soon' });
    expect((e3 as CliError).message).toMatch(/--checkpoint-interval/);
  });
});
