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
  const net = new Network({ logger: captureLogger() });
  net.add('in', connectors.fileSource({ path: file, ...options }));
  net.add('good', nodes.sink({ fn: (p) => void good.push(p) }));
  net.add('bad', nodes.sink({ fn: (p) => void bad.push(p as DeadLetter) }));
  net.link('in', 'good');
  net.routeErrors('in', 'bad');
  await net.start();
  await net.done();
  return { good, bad };
}

type FileCase = [
  label: string,
  name: string,
  content: string,
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
