import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { agglo } from '../../lib/agglo/index';
import { memoryObjectStore, openObjectStore } from '../../lib/agglo/objectstore';
import { memoryKvStore, mergeMaps, sortedJson } from '../../lib/agglo/tee';
import { openStateStore } from '../../lib/state/open';
import { nackReasons, runChain } from './support';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'agglo-proc-tee-'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
type Rec = { uuid: string; outputType: string; connectionString: string; response?: unknown };
const records = (p: unknown) => (p as Record<string, Rec[]>)['internal:tee:output'];

describe('tee', () => {
  it('to a local file: <dir>/<uuid>.json holding the event, then the event goes on with a record', async () => {
    const dir = path.join(tmp(), 'before-events');
    const run = await runChain(
      [['before', agglo.tee({ external: { externalType: 'ExternalLocalFile', connectionString: dir } })]],
      [{ b: 2, a: { z: 1, y: [1] } }],
    );
    expect(run.out).toHaveLength(1);
    const [rec] = records(run.out[0]);
    expect(rec).toEqual({ uuid: expect.stringMatching(UUID), outputType: 'localfile', connectionString: dir });
    const file = path.join(dir, `${rec.uuid}.json`);
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":{"y":[1],"z":1},"b":2}\n');
    expect(fs.readdirSync(dir)).toEqual([`${rec.uuid}.json`]);
    expect(run.log[0].acked).toBe(true);
  });

  it('appends to internal:tee:output; writes only when the condition holds', async () => {
    const store = `mem:tee-spec-${Date.now()}`;
    const cond = { expression: { comparator: { lhs: { variable: { name: 'doTest' } }, rhs: { literal: 'true' }, op: 'Equal' } } };
    const run = await runChain(
      [
        ['first', agglo.tee({ external: { externalType: 'ExternalObjectStore', connectionString: store } })],
        ['second', agglo.tee({ condition: cond, external: { externalType: 'ExternalObjectStore', connectionString: store } })],
      ],
      [{ doTest: 'true' }, { doTest: 'false' }],
    );
    expect(records(run.out[0]).map((r) => r.outputType)).toEqual(['object', 'object']);
    expect(records(run.out[1]).map((r) => r.outputType)).toEqual(['object']);
    const keys = await memoryObjectStore(store.slice(4)).list();
    expect(keys).toHaveLength(3);
    // The second tee wrote the event as it came: with the first tee's record.
    const second = records(run.out[0])[1].uuid;
    const written = JSON.parse(Buffer.from((await memoryObjectStore(store.slice(4)).get(second))!).toString());
    expect(written['internal:tee:output']).toHaveLength(1);
  });

  it('to an object store in a directory, with transformer and additionalBody deep-merged', async () => {
    const dir = tmp();
    const run = await runChain(
      [
        [
          'obj',
          agglo.tee({
            additionalBody: { routedTest: true, meta: { via: 'tee' }, tags: ['b'] },
            transformer: {
              forwardInputFields: true,
              specs: [{ sourceField: 'someNum', targetField: 'newNum', transformation: { transformationType: 'TransformCopy' } }],
            },
            external: { externalType: 'ExternalObjectStore', connectionString: `file:${dir}` },
          }),
        ],
      ],
      [{ someNum: 7, meta: { from: 'x' }, tags: ['a'] }],
    );
    const [rec] = records(run.out[0]);
    expect(rec.outputType).toBe('object');
    const written = JSON.parse(fs.readFileSync(path.join(dir, rec.uuid), 'utf8'));
    expect(written).toEqual({ someNum: 7, newNum: 7, routedTest: true, meta: { from: 'x', via: 'tee' }, tags: ['a', 'b'] });
    // The event itself is not transformed.
    expect(run.out[0]).toMatchObject({ someNum: 7, meta: { from: 'x' }, tags: ['a'] });
    expect((run.out[0] as Record<string, unknown>).newNum).toBeUndefined();
  });

  it('a clash with additionalBody is an error event naming the key', async () => {
    const run = await runChain(
      [['t', agglo.tee({ additionalBody: { a: 1 }, external: { externalType: 'ExternalObjectStore', connectionString: 'mem:clash' } })]],
      [{ a: 2 }],
    );
    expect(nackReasons(run)).toEqual(['additionalBody: key conflict (a)']);
  });

  it('to an in-memory key-value store, keyed by the uuid', async () => {
    const run = await runChain(
      [['kv', agglo.tee({ external: { externalType: 'ExternalKVStore', connectionString: 'mem:teeKv' } })]],
      [{ x: 1 }],
    );
    const [rec] = records(run.out[0]);
    expect(rec.outputType).toBe('kvstore');
    expect((await memoryKvStore('teeKv').get(rec.uuid))?.value).toEqual({ x: 1 });
  });

  it('to a key-value store by URL (SQLite here): the body under the uuid, the store closed at the end', async () => {
    const url = `sqlite:${path.join(tmp(), 'tee.db')}`;
    const run = await runChain(
      [['kv', agglo.tee({ external: { externalType: 'ExternalKVStore', connectionString: url } })]],
      [{ x: 1 }, { x: 2 }],
    );
    expect(run.logs).toEqual([]);
    const recs = run.out.map((p) => records(p)[0]);
    expect(recs.map((r) => r.outputType)).toEqual(['kvstore', 'kvstore']);
    const store = await openStateStore(url);
    try {
      expect((await store.get(recs[0].uuid))?.value).toEqual({ x: 1 });
      expect((await store.get(recs[1].uuid))?.value).toEqual({ x: 2 });
    } finally {
      await store.close();
    }
  });

  describe('to HTTP', () => {
    let server: http.Server;
    let base: string;
    const bodies: Array<{ path: string; body: unknown; auth?: string }> = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        let s = '';
        req.on('data', (d) => (s += d));
        req.on('end', () => {
          bodies.push({ path: req.url!, body: JSON.parse(s), auth: req.headers.authorization });
          if (req.url === '/fail') res.writeHead(503).end('down');
          else if (req.url === '/text') res.writeHead(200).end('OK');
          else if (req.url === '/empty') res.writeHead(204).end();
          else res.writeHead(200, { 'content-type': 'application/json' }).end(s);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('POSTs the JSON body and records the JSON response', async () => {
      const run = await runChain(
        [
          [
            'web',
            agglo.tee({
              additionalBody: { routedTest: true },
              external: { externalType: 'ExternalHttp', connectionString: `${base}/webhook` },
            }),
          ],
        ],
        [{ doTest: 'true' }],
      );
      expect(bodies.at(-1)).toMatchObject({ path: '/webhook', body: { doTest: 'true', routedTest: true } });
      expect(records(run.out[0])).toEqual([
        {
          uuid: expect.stringMatching(UUID),
          outputType: 'web',
          connectionString: `${base}/webhook`,
          response: { doTest: 'true', routedTest: true },
        },
      ]);
    });

    it('records a text response as text and an empty one not at all', async () => {
      const run = await runChain(
        [
          ['text', agglo.tee({ external: { externalType: 'ExternalHttp', connectionString: `${base}/text` } })],
          ['empty', agglo.tee({ external: { externalType: 'ExternalHttp', connectionString: `${base}/empty` } })],
        ],
        [{ a: 1 }],
      );
      const [text, empty] = records(run.out[0]);
      expect(text.response).toBe('OK');
      expect(empty).not.toHaveProperty('response');
    });

    it('a status of 300 or more is an error event (after the retries), the event is not passed on', async () => {
      const before = bodies.length;
      const run = await runChain(
        [
          [
            'web',
            agglo.tee({
              retryStrategy: { numRetries: 1, initialBackOffMs: 1 },
              external: { externalType: 'ExternalHttp', connectionString: `${base}/fail` },
            }),
          ],
        ],
        [{ a: 1 }],
      );
      expect(run.out).toEqual([]);
      expect(nackReasons(run)).toEqual([`error status 503 posting to url '${base}/fail' (after 2 attempts)`]);
      expect(bodies.length - before).toBe(2);
    });

    it('sends URL credentials as basic auth and never shows the password', async () => {
      const url = `http://user:s3cret@127.0.0.1:${new URL(base).port}/webhook`;
      const run = await runChain([['web', agglo.tee({ external: { externalType: 'ExternalHttp', connectionString: url } })]], [{ a: 1 }]);
      expect(bodies.at(-1)?.auth).toBe(`Basic ${Buffer.from('user:s3cret').toString('base64')}`);
      expect(JSON.stringify(run.out)).not.toContain('s3cret');
      expect(records(run.out[0])[0].connectionString).toBe(`http://user:***@127.0.0.1:${new URL(base).port}/webhook`);
    });

    it('a refused connection is an error event naming the URL', async () => {
      const run = await runChain(
        [['web', agglo.tee({ external: { externalType: 'ExternalHttp', connectionString: 'http://127.0.0.1:1/x' } })]],
        [{ a: 1 }],
      );
      expect(nackReasons(run)[0]).toMatch(/^posting to http:\/\/127\.0\.0\.1:1\/x failed: /);
    });
  });

  it('to a bus: tee records pubsub, tee_payload emits the body for a sink and drops when the condition is false', async () => {
    const cond = { expression: { comparator: { lhs: { variable: { name: 'n' } }, rhs: { numeric: 1 }, op: 'GreaterThan' } } };
    const run = await runChain(
      [
        [
          'payload',
          agglo.teePayload({
            condition: cond,
            additionalBody: { extra: [1] },
            transformerRef: 'T',
            transformer: { specs: [{ sourceField: 'n', targetField: 'm', transformation: { transformationType: 'TransformCopy' } }] },
          }),
        ],
      ],
      [{ n: 1 }, { n: 2 }],
    );
    expect(run.out).toEqual([{ m: 2, extra: [1] }]);
    expect(run.log.map((s) => s.acked)).toEqual([true, true]);
    const rec = await runChain(
      [['t', agglo.tee({ external: { externalType: 'ExternalPubSub', connectionString: 'nats://u:pw@127.0.0.1:4222/subj' } })]],
      [{}],
    );
    expect(records(rec.out[0])[0]).toMatchObject({ outputType: 'pubsub', connectionString: 'nats://u:***@127.0.0.1:4222/subj' });
  });

  it('rejects configurations it cannot run', () => {
    expect(() =>
      agglo.tee({ name: 'T', transformerRef: 'X', external: { externalType: 'ExternalLocalFile', connectionString: '/tmp' } }),
    ).toThrow("tee 'T': transformerRef 'X' only resolves inside an agglo config: give the transformer inline");
    expect(() => agglo.tee({ external: { externalType: 'ExternalLocal', connectionString: '/tmp' } })).toThrow(
      'external.externalType: unknown value "ExternalLocal"',
    );
    expect(() => openObjectStore('s3:bucket')).toThrow("'s3:' object stores are not supported here");
  });

  it('without external, or to a store it cannot write, fails at start naming the problem', async () => {
    await expect(runChain([['t', agglo.tee({})]], [{}])).rejects.toThrow("option 'external' is required");
    await expect(
      runChain([['t', agglo.tee({ external: { name: 'S', externalType: 'ExternalSearchIndex', connectionString: 'http://x' } })]], [{}]),
    ).rejects.toThrow("external 'S': a tee cannot write to ExternalSearchIndex");
  });

  it('mergeMaps and sortedJson behave as Go', () => {
    expect(mergeMaps({ a: { b: 1 }, l: [1] }, { a: { c: 2 }, l: [2], x: true })).toEqual({ a: { b: 1, c: 2 }, l: [1, 2], x: true });
    expect(() => mergeMaps({ a: [1] }, { a: { b: 1 } })).toThrow('key conflict (a)');
    expect(sortedJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}\n');
  });
});
