import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestScheduler } from 'rxjs/testing';
import type { NodeProgress, NodeStats, Role } from 'tributary';
import { emptyStats } from 'tributary';
import { main } from '../../lib/cli/program';
import { CLEAR_LINE, ProgressLine, StatusLine, progressText, sampleNetwork, type ProgressTarget } from '../../lib/cli/progress';

/** A terminal that records every write with the virtual time it happened at. */
function fakeTty(clock?: { now(): number }, columns?: number) {
  const writes: { at: number; text: string }[] = [];
  return {
    isTTY: true as const,
    columns,
    writes,
    write(text: string) {
      writes.push({ at: clock ? clock.now() : 0, text });
      return true;
    },
    /** What the terminal shows on its last row: the text after the last erase or newline. */
    text: () => writes.map((w) => w.text).join(''),
  };
}

function scheduler(): TestScheduler {
  return new TestScheduler((a, b) => expect(a).toEqual(b));
}

/** Runs every action due up to `ms` (a recurring refresh included) on the virtual clock. */
function advance(s: TestScheduler, ms: number): void {
  s.maxFrames = ms;
  s.flush();
  if (s.frame < ms) s.frame = ms;
}

/**
 * A network read by the progress line: a source emitting 100 events per 250 ms, a sink
 * receiving them one refresh later, 2 bytes of a 10,000-byte file read per ms.
 */
function fakeNetwork(s: TestScheduler, extra: Partial<{ inFlight: number; errors: number }> = {}): ProgressTarget {
  const roles: Record<string, Role> = { src: 'source', work: 'pipeline', out: 'sink' };
  return {
    get: (name) => (roles[name] ? { role: roles[name] } : undefined),
    stats: (): Record<string, NodeStats> => {
      const emitted = Math.floor(s.now() / 250) * 100;
      return {
        src: { ...emptyStats(), out: emitted },
        work: { ...emptyStats(), in: emitted, out: emitted, errors: extra.errors ?? 0 },
        out: { ...emptyStats(), in: Math.max(0, emitted - 100) },
      };
    },
    progress: (): Record<string, NodeProgress> => ({
      src: { inFlight: extra.inFlight ?? 0, read: Math.min(10_000, 2 * s.now()), total: 10_000, unit: 'bytes' },
    }),
  };
}

describe('ProgressLine', () => {
  it('draws at start, then refreshes every 250 ms on the scheduler: at most 4 times a second', () => {
    const s = scheduler();
    const tty = fakeTty(s);
    const progress = new ProgressLine({ network: fakeNetwork(s), line: new StatusLine(tty), scheduler: s });
    progress.start();
    advance(s, 2000);
    const draws = tty.writes.filter((w) => w.text.startsWith(CLEAR_LINE));
    expect(draws.map((w) => w.at)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
    progress.stop();
  });

  it('shows elapsed time, events/s in and out over the last second, errors, in flight, the percentage read and an ETA', () => {
    const s = scheduler();
    const tty = fakeTty(s);
    const progress = new ProgressLine({ network: fakeNetwork(s, { inFlight: 7, errors: 2 }), line: new StatusLine(tty), scheduler: s });
    progress.start();
    expect(tty.writes[0].text).toBe(`${CLEAR_LINE}0:00 | in 0/s | out 0/s | errors 2 | in flight 7 | read 0%`);
    advance(s, 2000);
    // 4000 of 10,000 bytes at 2000 B/s: 3 s left.
    expect(tty.writes.at(-1)!.text).toBe(`${CLEAR_LINE}0:02 | in 400/s | out 400/s | errors 2 | in flight 7 | read 40% ETA 0:03`);
    advance(s, 5000);
    expect(tty.writes.at(-1)!.text).toBe(`${CLEAR_LINE}0:05 | in 400/s | out 400/s | errors 2 | in flight 7 | read 100%`);
    progress.stop();
  });

  it('stop() erases the line and nothing is drawn afterwards; markDraining says so', () => {
    const s = scheduler();
    const tty = fakeTty(s);
    const progress = new ProgressLine({ network: fakeNetwork(s), line: new StatusLine(tty), scheduler: s });
    progress.start();
    advance(s, 500);
    progress.markDraining();
    expect(tty.writes.at(-1)!.text).toMatch(/ \| draining$/);
    progress.stop();
    expect(tty.writes.at(-1)!.text).toBe(CLEAR_LINE);
    const count = tty.writes.length;
    advance(s, 5000);
    expect(tty.writes).toHaveLength(count);
    expect(s.actions).toHaveLength(0);
  });
});

describe('progressText and sampleNetwork', () => {
  const base = { in: 0, out: 0, errors: 0, read: 0, total: 0, streamed: 0 };

  it('leaves out what the network cannot tell, and scales big numbers', () => {
    expect(progressText({ ...base, at: 0 }, { ...base, at: 1000, in: 500, out: 250 }, 0)).toBe('0:01 | in 500/s | out 250/s | errors 0');
    expect(progressText({ ...base, at: 0 }, { ...base, at: 2000, in: 5000, out: 3_000_000 }, -3_600_000)).toBe(
      '1:00:02 | in 2.5k/s | out 1.5M/s | errors 0',
    );
    expect(progressText({ ...base, at: 0 }, { ...base, at: 1000, streamed: 3 * 1024 * 1024, unit: 'bytes' }, 0)).toBe(
      '0:01 | in 0/s | out 0/s | errors 0 | read 3.0 MB',
    );
  });

  it('sums sources (in), sinks (out), errors everywhere, in flight and file bytes', () => {
    const target: ProgressTarget = {
      get: (n) => ({ role: (n.startsWith('s') ? 'source' : n.startsWith('k') ? 'sink' : 'pipeline') as Role }),
      stats: () => ({
        s1: { ...emptyStats(), out: 10, errors: 1 },
        s2: { ...emptyStats(), out: 5 },
        p: { ...emptyStats(), in: 15, out: 15, errors: 2 },
        k1: { ...emptyStats(), in: 15 },
        k2: { ...emptyStats(), in: 15 },
      }),
      progress: () => ({ s1: { inFlight: 3, read: 150, total: 100, unit: 'bytes' }, s2: { inFlight: 1, read: 7, unit: 'bytes' } }),
    };
    expect(sampleNetwork(target, 42)).toEqual({
      at: 42,
      in: 15,
      out: 30,
      errors: 3,
      inFlight: 4,
      read: 100,
      total: 100,
      streamed: 7,
      unit: 'bytes',
    });
  });
});

describe('StatusLine', () => {
  it('steps aside for log lines: erase, write, redraw', () => {
    const tty = fakeTty();
    const line = new StatusLine(tty);
    line.draw('status');
    line.passThrough.write('a log line\n');
    expect(tty.writes.map((w) => w.text)).toEqual([`${CLEAR_LINE}status`, CLEAR_LINE, 'a log line\n', 'status']);
    line.clear();
    expect(tty.writes.at(-1)!.text).toBe(CLEAR_LINE);
    expect(line.passThrough.isTTY).toBe(true);
  });

  it('waits while another writer left its line unfinished (a tester printing dots), and draws again after its newline', () => {
    const tty = fakeTty();
    const stdout = { write: (..._args: unknown[]) => true };
    const original = stdout.write;
    const line = new StatusLine(tty);
    const unhook = line.hook(stdout);
    line.draw('one');
    stdout.write('...');
    line.draw('two');
    expect(tty.writes.map((w) => w.text)).toEqual([`${CLEAR_LINE}one`, CLEAR_LINE]);
    stdout.write(Buffer.from('.\n'));
    expect(tty.writes.at(-1)!.text).toBe('two');
    stdout.write('');
    line.draw('three');
    expect(tty.writes.at(-1)!.text).toBe(`${CLEAR_LINE}three`);
    unhook();
    expect(stdout.write).toBe(original);
  });

  it('cuts the status to the terminal width so it never wraps', () => {
    const tty = fakeTty(undefined, 10);
    new StatusLine(tty).draw('0123456789abcdef');
    expect(tty.writes[0].text).toBe(`${CLEAR_LINE}012345678`);
  });
});

describe('tributary run: progress and log flags (in process)', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tb-progress-cli-'));
    script = path.join(dir, 'finite.lua');
    writeFileSync(script, "local tb = require('tributary')\ntb.create_from('n', {1, 2, 3})\ntb.create_discarder('d')\ntb.link('n', 'd')\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function io(tty: boolean) {
    const stderr = tty
      ? fakeTty()
      : { writes: [] as { at: number; text: string }[], write: (t: string) => void stderr.writes.push({ at: 0, text: t }) };
    const stdout = { isTTY: tty, write: (..._args: unknown[]) => true };
    return { stderr, stdout, original: stdout.write };
  }

  it('on a terminal: draws the status line while running and erases it at the end; stdout is hooked only meanwhile', async () => {
    const t = io(true);
    const code = await main(['node', 'tributary', 'run', script], t);
    expect(code).toBe(0);
    const texts = t.stderr.writes.map((w) => w.text);
    // `from` without maxInFlight tracks no deliveries: no in-flight count to show.
    expect(texts[0]).toBe(`${CLEAR_LINE}0:00 | in 0/s | out 0/s | errors 0`);
    expect(texts.at(-1)).toBe(CLEAR_LINE);
    expect(t.stdout.write).toBe(t.original);
  });

  it('--quiet, or stderr not a terminal: no progress line', async () => {
    const quiet = io(true);
    expect(await main(['node', 'tributary', 'run', script, '--quiet'], quiet)).toBe(0);
    expect(quiet.stderr.writes).toEqual([]);
    const piped = io(false);
    expect(await main(['node', 'tributary', 'run', script], piped)).toBe(0);
    expect(piped.stderr.writes).toEqual([]);
  });

  it('--log-level info adds the lifecycle lines, as JSON off a terminal', async () => {
    const piped = io(false);
    expect(await main(['node', 'tributary', 'run', script, '--log-level', 'info'], piped)).toBe(0);
    const lines = piped.stderr.writes.map((w) => JSON.parse(w.text));
    expect(lines).toEqual([
      expect.objectContaining({ level: 'info', msg: 'network starting', nodes: 2, sources: 1, sinks: 1 }),
      expect.objectContaining({ level: 'info', msg: 'draining', reason: 'finished' }),
      expect.objectContaining({ level: 'info', msg: 'network stopped', reason: 'finished', in: 3, out: 3, errors: 0, timedOut: false }),
    ]);
  });

  it('log lines never show the --db password, even inside a message and URL-decoded', async () => {
    const leaky = path.join(dir, 'leaky.lua');
    writeFileSync(
      leaky,
      "local tb = require('tributary')\ntb.create_from('n', {1})\n" +
        "tb.create_map('m', function(n) error('login with pa@ss refused') end)\ntb.create_discarder('d')\n" +
        "tb.link('n', 'm')\ntb.link('m', 'd')\n",
    );
    const piped = io(false);
    // A network without windows never opens the database: only the logger sees the URL.
    expect(await main(['node', 'tributary', 'run', leaky, '--db', 'mysql://root:pa%40ss@127.0.0.1:1/test'], piped)).toBe(3);
    const text = piped.stderr.writes.map((w) => w.text).join('');
    expect(text).toContain('login with <redacted> refused');
    expect(text).not.toContain('pa@ss');
  });

  it('--log-format pretty on a pipe; a bad --log-level is a usage error naming the choices', async () => {
    const piped = io(false);
    expect(await main(['node', 'tributary', 'run', script, '--log-level', 'debug', '--log-format', 'pretty'], piped)).toBe(0);
    expect(piped.stderr.writes[0].text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  network starting nodes=2 sources=1 sinks=1\n$/);
    const bad = io(false);
    expect(await main(['node', 'tributary', 'run', script, '--log-level', 'loud'], bad)).toBe(2);
    expect(bad.stderr.writes.map((w) => w.text).join('')).toContain('Allowed choices are trace, debug, info, warn, error, silent');
  });
});
