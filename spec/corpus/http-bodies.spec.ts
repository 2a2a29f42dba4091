import { gzipSync } from 'node:zlib';
import { Network, nodes } from 'tributary';
import { connectors, type ListeningInfo } from 'tributary/connectors';
import { captureLogger } from '../connectors/helpers';

// Bad request bodies sent to a real http_source: each is answered with a status and a reason
// naming the problem, emits nothing, and the next good request is still accepted.
const JSON_CT = { 'content-type': 'application/json' };
const NDJSON_CT = { 'content-type': 'application/x-ndjson' };
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const bytes = (...b: number[]) => new Uint8Array(b);

type BodyCase = [label: string, body: string | Uint8Array, headers: Record<string, string>, status: number, reason: RegExp];

const CASES: BodyCase[] = [
  ['unterminated object', '{"a":', JSON_CT, 400, /^malformed JSON: /],
  ['unterminated array', '[1,2', JSON_CT, 400, /^malformed JSON: /],
  ['trailing comma in object', '{"a":1,}', JSON_CT, 400, /^malformed JSON: .*position 7/],
  ['trailing comma in array', '[1,]', JSON_CT, 400, /^malformed JSON: /],
  ['single quotes', "{'a':1}", JSON_CT, 400, /^malformed JSON: .*position 1/],
  ['NaN literal', '{"a":NaN}', JSON_CT, 400, /^malformed JSON: Unexpected token 'N'/],
  ['undefined literal', '{"a":undefined}', JSON_CT, 400, /^malformed JSON: /],
  ['missing colon', '{"a" 1}', JSON_CT, 400, /^malformed JSON: /],
  ['truncated literal', 'tru', JSON_CT, 400, /^malformed JSON: /],
  ['unterminated string', '"abc', JSON_CT, 400, /^malformed JSON: /],
  ['leading zero', '01', JSON_CT, 400, /^malformed JSON: /],
  ['stray closing brace', '}', JSON_CT, 400, /^malformed JSON: /],
  ['two documents', '{"a":1}{"b":2}', JSON_CT, 400, /^malformed JSON: .*after JSON at position 7/],
  ['extra closing brace', '{"a":1}}', JSON_CT, 400, /^malformed JSON: /],
  [
    'XML body',
    '<a/>',
    { 'content-type': 'application/xml' },
    415,
    /^content type 'application\/xml' is not supported; send application\/json/,
  ],
  ['form body', 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' }, 400, /^malformed JSON: /],
  ['empty body', '', JSON_CT, 400, /^empty body: expected JSON$/],
  ['whitespace body', ' \n\t ', JSON_CT, 400, /^empty body: expected JSON$/],
  ['array nested too deep', deep(70), JSON_CT, 400, /nested deeper than the limit of 64 levels \(maxDepth\)/],
  ['object nested too deep', deepObject(70), JSON_CT, 400, /^the JSON body is nested deeper than the limit of 64 levels \(maxDepth\)$/],
  ['second element too deep', `[1,${deep(70)}]`, JSON_CT, 400, /^element 2 is nested deeper than the limit of 64 levels/],
  ['invalid UTF-8 (0xff 0xfe)', bytes(0x22, 0xff, 0xfe, 0x22), JSON_CT, 400, /^body is not valid UTF-8$/],
  ['overlong UTF-8', bytes(0x22, 0xc0, 0xaf, 0x22), JSON_CT, 400, /^body is not valid UTF-8$/],
  ['UTF-8 encoded surrogate', bytes(0x22, 0xed, 0xa0, 0x80, 0x22), JSON_CT, 400, /^body is not valid UTF-8$/],
  ['truncated UTF-8 sequence', bytes(0x22, 0xe2, 0x82, 0x22), JSON_CT, 400, /^body is not valid UTF-8$/],
  [
    'oversized body',
    JSON.stringify({ pad: 'x'.repeat(1_100_000) }),
    JSON_CT,
    400,
    /^body of 1100010 bytes is over the limit of 1048576 bytes$/,
  ],
  ['NDJSON bad line 3', '{"a":1}\n{"a":2}\n{oops}\n', NDJSON_CT, 400, /^malformed NDJSON at line 3: /],
  ['NDJSON bad line 1', '{"a":1\n{"a":2}', NDJSON_CT, 400, /^malformed NDJSON at line 1: /],
  ['NDJSON blank lines only', '\n\n', NDJSON_CT, 400, /^empty body: expected NDJSON lines$/],
  ['NDJSON line too deep', `1\n${deep(70)}`, NDJSON_CT, 400, /^NDJSON line 2 is nested deeper than the limit of 64 levels \(maxDepth\)$/],
  ['NDJSON invalid UTF-8', bytes(0x31, 0x0a, 0xff, 0x0a), NDJSON_CT, 400, /^body is not valid UTF-8$/],
  [
    'multipart form',
    '--x\r\n\r\n{}\r\n--x--',
    { 'content-type': 'multipart/form-data; boundary=x' },
    415,
    /^content type 'multipart\/form-data'/,
  ],
  [
    'octet stream',
    '{"a":1}',
    { 'content-type': 'application/octet-stream' },
    415,
    /^content type 'application\/octet-stream' is not supported/,
  ],
  [
    'unknown charset',
    '{"a":1}',
    { 'content-type': 'application/json; charset=klingon' },
    415,
    /^charset 'klingon' is not supported; send UTF-8$/,
  ],
  [
    'bytes invalid in the declared charset',
    bytes(0x00, 0xd8),
    { 'content-type': 'application/json; charset=utf-16le' },
    400,
    /^body is not valid utf-16le$/,
  ],
  [
    'unknown content encoding',
    '{"a":1}',
    { ...JSON_CT, 'content-encoding': 'compress' },
    415,
    /^content encoding 'compress' is not supported; use gzip, deflate, br or none$/,
  ],
  ['gzip header on a plain body', '{"a":1}', { ...JSON_CT, 'content-encoding': 'gzip' }, 400, /^body is not valid gzip data: /],
  [
    'gzip bomb past maxBodySize',
    gzipSync(Buffer.alloc(5_000_000, 0x20)),
    { ...JSON_CT, 'content-encoding': 'gzip' },
    400,
    /^body is over the limit of 1048576 bytes once decompressed \(gzip\)$/,
  ],
  ['gzip of malformed JSON', gzipSync('{"a":'), { ...JSON_CT, 'content-encoding': 'gzip' }, 400, /^malformed JSON: /],
];

type MethodCase = [label: string, method: string, path: string, status: number, reason: string];

const METHODS: MethodCase[] = [
  ['GET on the ingest path', 'GET', '/events', 405, 'use POST on /events'],
  ['PUT on the ingest path', 'PUT', '/events', 405, 'use POST on /events'],
  ['DELETE on the ingest path', 'DELETE', '/events', 405, 'use POST on /events'],
  ['POST to an unknown path', 'POST', '/nope', 404, 'no such path; send events to /events'],
];

describe('http_source answers bad bodies with a reason and keeps accepting good ones', () => {
  let network: Network;
  let base: string;
  const seen: unknown[] = [];
  let good = 0;

  beforeAll(async () => {
    let resolveListening!: (i: ListeningInfo) => void;
    const listening = new Promise<ListeningInfo>((r) => (resolveListening = r));
    network = new Network({ logger: captureLogger() });
    network.add('in', connectors.httpSource({ port: 0, onListening: resolveListening }));
    network.add('out', nodes.sink({ fn: (p) => void seen.push(p) }));
    network.link('in', 'out');
    await network.start();
    base = `http://127.0.0.1:${(await listening).port}`;
  });

  afterAll(async () => {
    await network.stop();
    // Only the good requests made it into the network.
    expect(seen).toEqual(Array.from({ length: good }, (_, i) => ({ good: i + 1 })));
  });

  async function expectGoodAfterwards(): Promise<void> {
    good += 1;
    const res = await fetch(`${base}/events`, { method: 'POST', body: JSON.stringify({ good }), headers: JSON_CT });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1 });
  }

  it.each(CASES)('%s', async (_label, body, headers, status, reason) => {
    const res = await fetch(`${base}/events`, { method: 'POST', body, headers });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(reason);
    await expectGoodAfterwards();
  });

  it.each(METHODS)('%s', async (_label, method, path, status, reason) => {
    const res = await fetch(`${base}${path}`, { method, body: method === 'GET' ? undefined : '{"a":1}', headers: JSON_CT });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toBe(reason);
    await expectGoodAfterwards();
  });
});
