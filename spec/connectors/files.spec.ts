import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Network, nodes, type NodeSpec } from 'tributary';
import { connectors } from 'tributary/connectors';
import { captureLogger, settlements, waitFor } from './helpers';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a source to its end into a collecting sink; error events are collected apart. */
async function collect(source: NodeSpec) {
  const good: unknown[] = [];
  const bad: unknown[] = [];
  const logger = captureLogger();
  const net = new Network({ logger });
  net.add('in', source);
  net.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
  net.add('bad', nodes.sink({ fn: (p) => void bad.push(p) }));
  net.link('in', 'good');
  net.routeErrors('in', 'bad');
  await net.start();
  const report = await net.done();
  return { good, bad, logger, report };
}

async function write(sink: NodeSpec, items: unknown[]) {
  const settled = settlements();
  const logger = captureLogger();
  const net = new Network({ logger });
  net.add('gen', nodes.from({ items, onSettle: settled.onSettle }));
  net.add('out', sink);
  net.link('gen', 'out');
  await net.start();
  const report = await net.done();
  return { settled, logger, report };
}

describe('file_source', () => {
  it('reads NDJSON line by line and completes at end of file; a bad line is an error event naming file and line', async () => {
    const file = path.join(dir, 'bets.ndjson');
    fs.writeFileSync(file, '{"id":1}\n\n{"id":2}\nnot json\n{"id":3}');
    const { good, bad } = await collect(connectors.fileSource({ path: file }));
    expect(good).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(bad).toHaveLength(1);
    expect(JSON.stringify(bad[0])).toContain(`${file} line 4: malformed JSON`);
  });

  it('an empty file completes at once', async () => {
    const file = path.join(dir, 'empty.ndjson');
    fs.writeFileSync(file, '');
    const { good, report } = await collect(connectors.fileSource({ path: file }));
    expect(good).toEqual([]);
    expect(report.timedOut).toBe(false);
  });

  it('reads CSV with a header into objects, with quoted delimiters, quotes and line breaks, and casts numbers', async () => {
    const file = path.join(dir, 'bets.csv');
    fs.writeFileSync(file, 'customer,stake,note\r\nc1,5,plain\r\nc2,7.5,"a, b"\nc3,-2,"say ""hi""\nsecond line"\nc4,x1,\n');
    const { good, bad } = await collect(connectors.fileSource({ path: file, cast: true }));
    expect(bad).toEqual([]);
    expect(good).toEqual([
      { customer: 'c1', stake: 5, note: 'plain' },
      { customer: 'c2', stake: 7.5, note: 'a, b' },
      { customer: 'c3', stake: -2, note: 'say "hi"\nsecond line' },
      { customer: 'c4', stake: 'x1', note: '' },
    ]);
  });

  it('CSV: a stray quote inside an unquoted field is an ordinary character, not the start of a quoted field', async () => {
    const file = path.join(dir, 'items.csv');
    fs.writeFileSync(file, 'id,item,qty\n1,27" monitor,2\n2,desk,1\n3,"a ""b"", c",4\n4,lamp,1\n');
    const { good, bad } = await collect(connectors.fileSource({ path: file, cast: true }));
    expect(bad).toEqual([]);
    expect(good).toEqual([
      { id: 1, item: '27" monitor', qty: 2 },
      { id: 2, item: 'desk', qty: 1 },
      { id: 3, item: 'a "b", c', qty: 4 },
      { id: 4, item: 'lamp', qty: 1 },
    ]);
  });

  it('strips a UTF-8 byte order mark from the first line (CSV header, NDJSON, stdin)', async () => {
    const csv = path.join(dir, 'bom.csv');
    fs.writeFileSync(csv, '\ufeffid,name\n1,a\n');
    expect((await collect(connectors.fileSource({ path: csv, cast: true }))).good).toEqual([{ id: 1, name: 'a' }]);
    const nd = path.join(dir, 'bom.ndjson');
    fs.writeFileSync(nd, '\ufeff{"n":1}\n{"n":2}\n');
    const r = await collect(connectors.fileSource({ path: nd }));
    expect(r.bad).toEqual([]);
    expect(r.good).toEqual([{ n: 1 }, { n: 2 }]);
    const input = new PassThrough();
    input.end(Buffer.from('\ufeff{"n":3}\n', 'utf8'));
    expect((await collect(connectors.stdinSource({ input }))).good).toEqual([{ n: 3 }]);
  });

  it('reads CSV without a header as lists, or with given columns; a short row is an error event', async () => {
    const file = path.join(dir, 'rows.tsv');
    fs.writeFileSync(file, 'a\t1\nb\t2\nc\n');
    expect((await collect(connectors.fileSource({ path: file, header: false }))).good).toEqual([['a', '1'], ['b', '2'], ['c']]);
    const named = await collect(connectors.fileSource({ path: file, header: false, columns: ['k', 'v'] }));
    expect(named.good).toEqual([
      { k: 'a', v: '1' },
      { k: 'b', v: '2' },
    ]);
    expect(JSON.stringify(named.bad[0])).toContain('line 3: 1 fields, expected 2 (k, v)');
  });

  it('logs a missing file with its path and completes', async () => {
    const file = path.join(dir, 'nope.ndjson');
    const { good, logger } = await collect(connectors.fileSource({ path: file }));
    expect(good).toEqual([]);
    expect(logger.messages.join('\n')).toContain(`node 'in': ${file}: ENOENT`);
  });

  it('pauses reading at maxInFlight and stops reading early when the network stops', async () => {
    const file = path.join(dir, 'many.ndjson');
    fs.writeFileSync(file, Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ i })).join('\n'));
    const seen: number[] = [];
    let open = 0;
    let maxOpen = 0;
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.fileSource({ path: file, maxInFlight: 5 }));
    net.add(
      'out',
      nodes.sink({
        concurrency: 50,
        fn: async (p: { i: number }) => {
          open++;
          maxOpen = Math.max(maxOpen, open);
          await new Promise((r) => setImmediate(r));
          open--;
          seen.push(p.i);
          if (p.i === 99) void net.stop();
        },
      }),
    );
    net.link('in', 'out');
    await net.start();
    const report = await net.done();
    expect(report.timedOut).toBe(false);
    expect(maxOpen).toBeLessThanOrEqual(5);
    expect(seen.length).toBeGreaterThanOrEqual(100);
    expect(seen.length).toBeLessThan(10_000);
  });

  it('validates options', () => {
    expect(() => connectors.fileSource({} as never)).toThrow("node kind 'file_source': option 'path' is required");
    expect(() => connectors.fileSource({ path: 'a.csv', delimiter: '' })).toThrow("option 'delimiter' must be a non-empty string");
    expect(() => connectors.fileSource({ path: 'a.csv', format: 'xml' as never })).toThrow("option 'format' must be one of");
  });
});

describe('file_sink', () => {
  it('appends NDJSON lines (keeping what the file held) and acks every event after the write', async () => {
    const file = path.join(dir, 'sub', 'out.ndjson');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, '{"old":true}\n');
    const { settled, report } = await write(connectors.fileSink({ path: file }), [{ a: 1 }, 'two', [3]]);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"old":true}\n{"a":1}\n"two"\n[3]\n');
    expect(settled.acked()).toHaveLength(3);
    expect(report.stats.out.acked).toBe(3);
  });

  it('creates missing directories', async () => {
    const file = path.join(dir, 'a', 'b', 'out.ndjson');
    await write(connectors.fileSink({ path: file }), [1]);
    expect(fs.readFileSync(file, 'utf8')).toBe('1\n');
  });

  it('writes CSV with one header across runs, quoting as needed, and reads back the same rows', async () => {
    const file = path.join(dir, 'alerts.csv');
    await write(connectors.fileSink({ path: file }), [{ customer: 'c1', liability: 140, note: 'a, "b"' }]);
    await write(connectors.fileSink({ path: file }), [{ customer: 'c2', liability: 131.5, note: 'x\ny' }]);
    expect(fs.readFileSync(file, 'utf8')).toBe('customer,liability,note\nc1,140,"a, ""b"""\nc2,131.5,"x\ny"\n');
    const { good } = await collect(connectors.fileSource({ path: file, cast: true }));
    expect(good).toEqual([
      { customer: 'c1', liability: 140, note: 'a, "b"' },
      { customer: 'c2', liability: 131.5, note: 'x\ny' },
    ]);
  });

  it('rotates by size, keeping the newest files', async () => {
    const file = path.join(dir, 'log.ndjson');
    const items = Array.from({ length: 30 }, (_, i) => ({ i: 100 + i })); // 12 bytes a line
    await write(connectors.fileSink({ path: file, rotateBytes: 50, keep: 2 }), items);
    const read = (f: string) =>
      fs
        .readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).i as number);
    const current = read(file);
    const one = read(`${file}.1`);
    const two = read(`${file}.2`);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(fs.statSync(f).size).toBeLessThanOrEqual(50);
    expect(fs.existsSync(`${file}.3`)).toBe(false);
    // The newest lines, in order, across the kept files.
    expect([...two, ...one, ...current]).toEqual(items.slice(-(two.length + one.length + current.length)).map((x) => x.i));
    expect(current[current.length - 1]).toBe(129);
  });

  it('nacks a payload it cannot write and error events, writing the rest', async () => {
    const file = path.join(dir, 'out.ndjson');
    const settled = settlements();
    const net = new Network({ logger: captureLogger() });
    net.add('gen', nodes.from({ items: [1, undefined, 3, 4], onSettle: settled.onSettle }));
    net.add(
      'check',
      nodes.map({
        fn: (n: number) => {
          if (n === 4) throw new Error('no fours');
          return n;
        },
      }),
    );
    net.add('out', connectors.fileSink({ path: file }));
    net.link('gen', 'check').link('check', 'out');
    await net.start();
    await net.done();
    expect(fs.readFileSync(file, 'utf8')).toBe('1\n3\n');
    expect(settled.acked()).toEqual([1, 3]);
    expect(settled.nacked().map((n) => n.payload)).toEqual([undefined, 4]);
  });

  it('nacks events whose write failed, naming the path', async () => {
    const file = path.join(dir, 'is-a-dir');
    fs.mkdirSync(file);
    const { settled, logger } = await write(connectors.fileSink({ path: file }), [1, 2]);
    expect(settled.nacked()).toHaveLength(2);
    expect(logger.messages.join('\n')).toContain(file);
  });

  it('a path that cannot be created (its parent is a regular file) fails the node naming the path, nacking the events, even with an endless source', async () => {
    const parent = path.join(dir, 'plain-file');
    fs.writeFileSync(parent, 'not a directory');
    const file = path.join(parent, 'sub', 'out.ndjson');
    const settled = settlements();
    const logger = captureLogger();
    const net = new Network({ logger });
    function* endless() {
      for (let i = 1; ; i++) yield i;
    }
    net.add('gen', nodes.from({ items: endless(), maxInFlight: 4, onSettle: settled.onSettle }));
    net.add('out', connectors.fileSink({ path: file }));
    net.link('gen', 'out');
    await net.start();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the network did not end within 20 s')), 20_000);
    });
    try {
      const report = await Promise.race([net.done(), bound]);
      expect(report.failure).toMatch(/^network broke at 'out': cannot create or open .*plain-file\/sub\/out\.ndjson: ENOTDIR/);
      expect(report.failure).toContain(file);
      expect(settled.acked()).toEqual([]);
      expect(settled.nacked().length).toBeGreaterThan(0);
      expect(report.stats.out).toMatchObject({ acked: 0 });
    } finally {
      clearTimeout(timer);
      await net.stop();
    }
  });

  it('the file itself being a directory also fails the node, naming the path; the events are nacked', async () => {
    const file = path.join(dir, 'is-a-dir');
    fs.mkdirSync(file);
    const { settled, report } = await write(connectors.fileSink({ path: file }), [1, 2, 3]);
    expect(report.failure).toMatch(/^network broke at 'out': cannot create or open .*is-a-dir: EISDIR/);
    expect(settled.acked()).toEqual([]);
    expect(settled.nacked().map((n) => n.payload)).toEqual([1, 2, 3]);
  });
});

describe('stdin_source and stdout_sink', () => {
  it('pipes NDJSON from an input stream to an output stream and completes at end of input', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d) => (text += d));
    const net = new Network({ logger: captureLogger() });
    net.add('in', connectors.stdinSource({ input }));
    net.add('double', nodes.map({ fn: (p: { n: number }) => ({ n: p.n * 2 }) }));
    net.add('out', connectors.stdoutSink({ output }));
    net.link('in', 'double').link('double', 'out');
    await net.start();
    input.write('{"n":1}\n{"n":2}\n');
    input.end('{"n":3}\n');
    const report = await net.done();
    expect(text).toBe('{"n":2}\n{"n":4}\n{"n":6}\n');
    expect(report.stats.out.acked).toBe(3);
  });

  it('stdout sink cut off mid-write: writes nothing more, nacks the queued events with CUT_OFF', async () => {
    let text = '';
    let held: (() => void) | undefined;
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString('utf8');
        held = () => cb(); // the first write hangs until released
      },
    });
    const settled = settlements();
    const net = new Network({ logger: captureLogger() });
    net.add('in', nodes.from({ items: [1, 2, 3, 4], onSettle: settled.onSettle }));
    net.add('out', connectors.stdoutSink({ output }));
    net.link('in', 'out');
    await net.start();
    await waitFor(() => held !== undefined, 'the first write');
    const report = await net.stop({ timeout: 20 });
    expect(report.timedOut).toBe(true);
    held!();
    await waitFor(() => settled.list.length === 4, 'every event settled', 2000);
    expect(text).toBe('1\n');
    expect(settled.acked()).toEqual([1]);
    expect(settled.nacked().map((n) => [n.payload, (n.reason as Error).message])).toEqual(
      [2, 3, 4].map((p) => [p, 'the network was cut off before this event was processed']),
    );
  });

  it('reads CSV from the input when asked', async () => {
    const input = new PassThrough();
    input.end('a,b\n1,2\n');
    const { good } = await collect(connectors.stdinSource({ input, format: 'csv', cast: true }));
    expect(good).toEqual([{ a: 1, b: 2 }]);
  });

  it('validates its streams', () => {
    expect(() => connectors.stdinSource({ input: {} as never })).toThrow("option 'input' must be a readable stream");
    expect(() => connectors.stdoutSink({ output: {} as never })).toThrow("option 'output' must be a writable stream");
  });
});
