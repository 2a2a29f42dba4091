import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Network, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import { captureLogger } from '../connectors/helpers';

// Malformed lines in files read by file_source: each becomes an error event (routed to a
// dead-letter sink) naming the file and the line, and the source keeps reading the lines after it.

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tb-corpus-files-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

interface DeadLetter {
  error: string;
  node: string;
  payload: unknown;
}

async function readAll(file: string, options: Record<string, unknown> = {}) {
  const good: unknown[] = [];
  const bad: DeadLetter[] = [];
  const logger = captureLogger();
  const net = new Network({ logger });
  net.add('in', connectors.fileSource({ path: file, ...options }));
  net.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
  net.add('bad', nodes.sink({ fn: (p) => void bad.push(p as DeadLetter) }));
  net.link('in', 'good');
  net.routeErrors('in', 'bad');
  await net.start();
  await net.done();
  const report = await net.stop();
  return { good, bad, logger, report };
}
const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

type FileCase = [
  label: string,
  name: string,
  content: string | Buffer,
  line: number,
  reason: RegExp,
  good: unknown[],
  options?: Record<string, unknown>,
];

const CASES: FileCase[] = [
  ['NDJSON: unquoted key', 'a.ndjson', '{"a":1}\n{oops\n{"a":3}\n', 2, /malformed JSON/, [{ a: 1 }, { a: 3 }]],
  ['NDJSON: trailing comma on line 1', 'a.ndjson', '{"a":1,}\n{"a":2}\n', 1, /malformed JSON: .*position 7/, [{ a: 2 }]],
  ['NDJSON: truncated last line', 'a.ndjson', '{"a":1}\n{"a":', 2, /malformed JSON: Unexpected end of JSON input/, [{ a: 1 }]],
  ['NDJSON: CRLF line endings', 'a.ndjson', '{"a":1}\r\n{x}\r\n{"a":3}\r\n', 2, /malformed JSON/, [{ a: 1 }, { a: 3 }]],
  ['NDJSON: single quotes', 'a.ndjson', "{'a':1}\n[1]\n", 1, /malformed JSON/, [[1]]],
  ['NDJSON: two objects on a line', 'a.ndjson', '1\n2\n{"a":1}{"b":2}\n4\n', 3, /malformed JSON: .*after JSON/, [1, 2, 4]],
  ['NDJSON: NaN', 'a.ndjson', '{"a":NaN}\n{"a":2}\n', 1, /malformed JSON: Unexpected token 'N'/, [{ a: 2 }]],
  ['NDJSON: bad line after blank lines', 'a.ndjson', '1\n\n\n}\n5\n', 4, /malformed JSON/, [1, 5]],
  ['NDJSON: unterminated string', 'a.jsonl', '"abc\n"def"\n', 1, /malformed JSON/, ['def']],
  [
    'CSV: short row',
    'a.csv',
    'k,v\n1,2\n3\n4,5\n',
    3,
    /1 fields, expected 2 \(k, v\)/,
    [
      { k: '1', v: '2' },
      { k: '4', v: '5' },
    ],
  ],
  [
    'CSV: long row',
    'a.csv',
    'k,v\n1,2\n3,4,5\n6,7\n',
    3,
    /3 fields, expected 2 \(k, v\)/,
    [
      { k: '1', v: '2' },
      { k: '6', v: '7' },
    ],
  ],
  ['CSV: unterminated quote', 'a.csv', 'k,v\n1,"2\n3,4\n', 2, /unterminated quoted field at end of input/, []],
  [
    'CSV: short row on the last line',
    'a.csv',
    'k,v\n1,2\n3,4\nx\n',
    4,
    /1 fields, expected 2/,
    [
      { k: '1', v: '2' },
      { k: '3', v: '4' },
    ],
  ],
  [
    'TSV: short row',
    'a.tsv',
    'k\tv\n1\t2\n3\n4\t5\n',
    3,
    /1 fields, expected 2 \(k, v\)/,
    [
      { k: '1', v: '2' },
      { k: '4', v: '5' },
    ],
  ],
  [
    'CSV with columns: short row',
    'b.csv',
    '1,2\n3\n4,5\n',
    2,
    /1 fields, expected 2 \(a, b\)/,
    [
      { a: '1', b: '2' },
      { a: '4', b: '5' },
    ],
    { header: false, columns: ['a', 'b'] },
  ],
  ['CSV cast: long row', 'c.csv', 'n\n1\n2,3\n4\n', 3, /2 fields, expected 1 \(n\)/, [{ n: 1 }, { n: 4 }], { cast: true }],
  [
    'NDJSON: invalid UTF-8 byte',
    'u.ndjson',
    bytes('{"a":1}\n"', [0xff], '"\n{"a":3}\n'),
    2,
    /^\S+ line 2: not valid UTF-8$/,
    [{ a: 1 }, { a: 3 }],
  ],
  ['NDJSON: overlong UTF-8', 'u.ndjson', bytes('1\n2\n"', [0xc0, 0xaf], '"\n'), 3, /not valid UTF-8/, [1, 2]],
  ['NDJSON: UTF-8 encoded surrogate', 'u.ndjson', bytes('"', [0xed, 0xa0, 0x80], '"\n"ok"\n'), 1, /not valid UTF-8/, ['ok']],
  ['NDJSON: Latin-1 file', 'l.ndjson', bytes('{"name":"Jos', [0xe9], '"}\n{"name":"Ann"}\n'), 1, /not valid UTF-8/, [{ name: 'Ann' }]],
  [
    'CSV: invalid UTF-8 in a row',
    'u.csv',
    bytes('k,v\n1,2\n3,', [0xfe], '\n5,6\n'),
    3,
    /not valid UTF-8/,
    [
      { k: '1', v: '2' },
      { k: '5', v: '6' },
    ],
  ],
];

describe('file_source: a malformed line is an error event naming the file and line, and reading goes on', () => {
  it.each(CASES)('%s', async (...[, name, content, line, reason, good, options]: FileCase) => {
    // (a rest parameter: with seven named ones Jest would take the last for a done callback)
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    const r = await readAll(file, options);
    expect(r.bad).toHaveLength(1);
    expect(r.bad[0].node).toBe('in');
    expect(r.bad[0].error.startsWith(`${file} line ${line}: `)).toBe(true);
    expect(r.bad[0].error).toMatch(reason);
    expect(r.good).toEqual(good);
  });

  it('several bad lines in one file each name their own line', async () => {
    const file = path.join(dir, 'many.ndjson');
    fs.writeFileSync(file, '1\n{\n3\n[\n5\n"x\n7\n');
    const r = await readAll(file);
    expect(r.bad.map((b) => b.error.split(': ')[0])).toEqual([`${file} line 2`, `${file} line 4`, `${file} line 6`]);
    expect(r.good).toEqual([1, 3, 5, 7]);
  });
});

describe('file_source: a file that cannot be read as a whole fails the node, naming the file, line and column', () => {
  it.each([
    ['a repeated column', 'k,v,k\n1,2,3\n', /line 1: the CSV header names column 'k' twice \(columns 1 and 3\); rows would lose a field/],
    ['a blank column name', 'k,,v\n1,2,3\n', /line 1: the CSV header has a blank name for column 2; name every column/],
    ['a header of blanks only', ' , \n1,2\n', /line 1: the CSV header has a blank name for column 1/],
  ])('CSV header with %s', async (_label, content, reason) => {
    const file = path.join(dir, 'h.csv');
    fs.writeFileSync(file, content);
    const r = await readAll(file);
    expect(r.good).toEqual([]);
    expect(r.report.stats.in.errors).toBe(1);
    const logged = r.logger.messages.join('\n');
    expect(logged).toContain(`node 'in': ${file} line 1: the CSV header`);
    expect(logged).toMatch(reason);
  });

  it('a repeated or blank name in the columns option is refused at build, naming the option', () => {
    expect(() => connectors.fileSource({ path: 'x.csv', header: false, columns: ['a', 'b', 'a'] })).toThrow(
      "option 'columns' names column 'a' twice (columns 1 and 3)",
    );
    expect(() => connectors.fileSource({ path: 'x.csv', header: false, columns: ['a', ''] })).toThrow(
      "option 'columns' has a blank name for column 2",
    );
  });

  it('reads a multi-byte character split across read chunks', async () => {
    const file = path.join(dir, 'split.ndjson');
    // 65535 ASCII bytes, then "é" (2 bytes) straddles the first 64 KiB chunk boundary.
    const first = JSON.stringify({ pad: 'x'.repeat(65535 - 12) });
    fs.writeFileSync(file, `${first}\n"é"\n"ü"\n`);
    const r = await readAll(file);
    expect(r.bad).toEqual([]);
    expect(r.good.slice(1)).toEqual(['é', 'ü']);
  });
});
