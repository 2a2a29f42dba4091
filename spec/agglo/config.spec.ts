import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Network } from 'tributary';
import { aggloToDocument, externalEnvName, isAggloConfig } from '../../lib/agglo/config';
import { memoryObjectStore } from '../../lib/agglo/objectstore';
import { memoryKvStore } from '../../lib/agglo/tee';
import { buildFromDocument } from '../../lib/declarative/build';
import type { NetworkDocument } from '../../lib/declarative/document';
import { builtinPlugins } from '../../lib/plugins';
import { memoryLogger } from './support';

const FIXTURES = path.join(__dirname, 'fixtures');
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, any>;
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'agglo-proc-config-'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Builds a translated document onto a fresh network with the built-in plugins and runs it to the end. */
async function runDocument(doc: NetworkDocument, options: { allowExec?: boolean } = {}) {
  const logger = memoryLogger();
  const net = new Network({ plugins: builtinPlugins(), logger, ...options });
  buildFromDocument(net, doc, { file: 'config.json', env: {} });
  await net.start();
  const report = await net.done();
  return { net, report, logs: logger.lines };
}

const readJsonDir = (dir: string) =>
  fs
    .readdirSync(dir)
    .sort()
    .map((f) => ({ file: f, value: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Record<string, any> }));

describe('aggloToDocument', () => {
  it('recognises agglo configs', () => {
    expect(isAggloConfig(fixture('orders_pipeline.json'))).toBe(true);
    expect(isAggloConfig({ nodes: [], edges: [] })).toBe(false);
    expect(isAggloConfig([])).toBe(false);
  });

  it('builds input -> ingest -> every pipeline (annotate internal fields, processes in order) -> end', () => {
    const doc = aggloToDocument(fixture('many_pipeline.json'), { file: 'many.json', env: {} });
    const kinds = Object.fromEntries(doc.nodes.map((n) => [n.name, n.kind]));
    expect(kinds).toMatchObject({
      input: 'stdin_source',
      'agglo:ingest': 'agglo_ingest',
      Gate: 'annotate',
      'Gate/only-interesting': 'continue',
      'Gate/drop-debug': 'agglo_filter',
      'Gate/echo': 'spawn',
      'Gate/count-tags': 'transform',
      'Gate/to-objects': 'tee',
      'Gate/to-kv': 'tee',
      'Gate/to-bus': 'tee',
      'Gate/to-bus#payload': 'tee_payload',
      'Gate/to-bus#sink': 'discarder',
      'Gate/end': 'discarder',
      Joins: 'annotate',
      'Joins/join-build': 'complete',
      'Joins/completed-to-file': 'tee',
      'Joins/end': 'discarder',
    });
    expect(doc.edges).toContainEqual({ from: 'input', to: 'agglo:ingest' });
    expect(doc.edges).toContainEqual({ from: 'agglo:ingest', to: ['Gate', 'Joins'] });
    expect(doc.edges).toContainEqual({ from: 'Gate/to-kv', to: ['Gate/to-bus', 'Gate/to-bus#payload'] });
    expect(doc.edges).toContainEqual({ from: 'Gate/to-bus#payload', to: 'Gate/to-bus#sink' });
    const gate = doc.nodes.find((n) => n.name === 'Gate')!;
    expect(gate.options).toEqual({
      name: 'Gate (internal)',
      annotations: [
        { fieldKey: 'internal:partitionID', value: 'a3c9e1f2-5b7d-4c8e-9f0a-1b2c3d4e5f60' },
        { fieldKey: 'internal:name', value: 'Gate' },
      ],
    });
    // transformerRef inlined, external resolved; agglo's `local` KV store is an in-memory store.
    const bus = doc.nodes.find((n) => n.name === 'Gate/to-bus')!;
    expect(bus.options).toMatchObject({
      transformer: { name: 'bus-shape' },
      external: { externalType: 'ExternalPubSub', connectionString: 'mem:busTopic' },
    });
    expect(doc.nodes.find((n) => n.name === 'Joins/join-build')!.options).toMatchObject({ stateStore: 'mem:JoinState' });
  });

  it('writes the partition id as Go does: lower case, hyphenated', () => {
    const c = fixture('orders_pipeline.json');
    c.partitionUuid = '7B1F6C2E4D0A4E8B9A513C2D9E0F1A77';
    const doc = aggloToDocument(c, { file: 'o.json', env: {} });
    expect((doc.nodes.find((n) => n.name === 'OrderPipeline')!.options as any).annotations[0].value).toBe(
      '7b1f6c2e-4d0a-4e8b-9a51-3c2d9e0f1a77',
    );
  });

  it('passes retryStrategy to each process node (not to aggregate/complete, which retry conflicts themselves)', () => {
    const doc = aggloToDocument(fixture('orders_pipeline.json'), { file: 'o.json', env: {} });
    const opts = (n: string) => doc.nodes.find((x) => x.name === `OrderPipeline/${n}`)!.options!;
    expect(opts('FinalTee').retryStrategy).toEqual({ numRetries: 1, initialBackOffMs: '5' });
    expect(opts('TotalAmount')).not.toHaveProperty('retryStrategy');
    expect(opts('TotalAmount').stateStore).toBe('mem:orderState');
  });

  it('overrides connection strings from options or TRIBUTARY_AGGLO_<SYSTEM>, options first', () => {
    expect(externalEnvName('RawEvents')).toBe('TRIBUTARY_AGGLO_RAW_EVENTS');
    expect(externalEnvName('OrderStateKV')).toBe('TRIBUTARY_AGGLO_ORDER_STATE_KV');
    expect(externalEnvName('tee-out.files')).toBe('TRIBUTARY_AGGLO_TEE_OUT_FILES');
    const doc = aggloToDocument(fixture('orders_pipeline.json'), {
      file: 'o.json',
      env: {
        TRIBUTARY_AGGLO_RAW_EVENTS: '/data/raw',
        TRIBUTARY_AGGLO_FINAL_EVENTS: '/data/final',
        TRIBUTARY_AGGLO_ORDER_STATE_KV: 'sqlite:./s.db',
      },
      connections: { FinalEvents: '/opt/final' },
    });
    const ext = (n: string) => (doc.nodes.find((x) => x.name === `OrderPipeline/${n}`)!.options as any).external?.connectionString;
    expect(ext('RawTee')).toBe('/data/raw');
    expect(ext('FinalTee')).toBe('/opt/final');
    expect(doc.nodes.find((x) => x.name === 'OrderPipeline/TotalAmount')!.options!.stateStore).toBe('sqlite:./s.db');
    expect(() => aggloToDocument(fixture('orders_pipeline.json'), { file: 'o.json', env: {}, connections: { Nope: 'x' } })).toThrow(
      "o.json: connection override for 'Nope': no external system has that name (RawEvents, FinalEvents, OrderStateKV)",
    );
  });

  it('maps pub/sub connection strings to bus sinks (or the sinks given)', () => {
    const config = fixture('many_pipeline.json');
    const sink = (env: Record<string, string>, sinks?: Record<string, { kind: string; options?: Record<string, unknown> }>) =>
      aggloToDocument(config, { file: 'm.json', env, sinks }).nodes.find((n) => n.name === 'Gate/to-bus#sink');
    expect(sink({ TRIBUTARY_AGGLO_BUS: 'nats://127.0.0.1:4222/alerts.new' })).toEqual({
      name: 'Gate/to-bus#sink',
      kind: 'nats_sink',
      options: { url: 'nats://127.0.0.1:4222', subject: 'alerts.new', jetstream: false },
    });
    expect(sink({ TRIBUTARY_AGGLO_BUS: 'redis://127.0.0.1:6379/chan' })).toMatchObject({
      kind: 'redis_pubsub_sink',
      options: { channel: 'chan' },
    });
    expect(sink({ TRIBUTARY_AGGLO_BUS: 'mqtt://127.0.0.1:1883/a/b' })).toMatchObject({ kind: 'mqtt_sink', options: { topic: 'a/b' } });
    expect(sink({ TRIBUTARY_AGGLO_BUS: 'amqp://guest:guest@127.0.0.1:5672/q1' })).toMatchObject({
      kind: 'amqp_sink',
      options: { url: 'amqp://guest:guest@127.0.0.1:5672', exchange: '', routingKey: 'q1' },
    });
    expect(sink({}, { Bus: { kind: 'stdout_sink' } })).toEqual({ name: 'Gate/to-bus#sink', kind: 'stdout_sink' });
  });

  it('keeps Go templates such as ${1} literal for the builder (which expands ${NAME})', () => {
    const config = fixture('orders_pipeline.json');
    config.processDefinitions[2].transformer.specs[0].transformation.mapRegexArgs.replace = '${1}';
    const doc = aggloToDocument(config, { file: 'o.json', env: {} });
    const strip = doc.nodes.find((n) => n.name === 'OrderPipeline/StripSku')!;
    expect(JSON.stringify(strip.options)).toContain('"replace":"$${1}"');
  });

  describe('errors name the file and the field', () => {
    const bad = (mutate: (c: Record<string, any>) => void, file = 'orders_pipeline.json') => {
      const c = fixture(file);
      mutate(c);
      return () => aggloToDocument(c, { file: 'cfg.json', env: {} });
    };
    it.each([
      ['an unknown top-level field', (c: any) => (c.pipeline = []), "cfg.json: Pipelines: unknown field 'pipeline' in Pipelines"],
      [
        'an unknown nested field',
        (c: any) => (c.processDefinitions[0].annotator.annotations[0].condition.expression.comparator.operator = 'Equal'),
        "cfg.json: processDefinitions[0].annotator.annotations[0].condition.expression.comparator: unknown field 'operator'",
      ],
      [
        'a bad enum',
        (c: any) => (c.externalSystems[0].externalType = 'LocalFile'),
        'cfg.json: externalSystems[0].externalType: unknown value "LocalFile"',
      ],
      [
        'two processes in one definition',
        (c: any) => (c.processDefinitions[0].filter = { name: 'x' }),
        "'annotator' and 'filter' are alternatives",
      ],
      [
        'a missing process',
        (c: any) => (c.pipelines[0].processes[1].name = 'Nope'),
        'cfg.json: pipelines[0].processes[1].name: cannot find process: Nope',
      ],
      [
        'a duplicate process name',
        (c: any) => (c.processDefinitions[3].tee.name = 'FinalTee'),
        'name conflict in process definitions: FinalTee',
      ],
      ['a bad partition id', (c: any) => (c.partitionUuid = 'p1'), 'cfg.json: partitionUuid: must be a UUID, got "p1"'],
      [
        'a tee to no system',
        (c: any) => (c.processDefinitions[3].tee.outputConnectorRef = 'Gone'),
        'tee.outputConnectorRef: "Gone" is not a valid external reference',
      ],
      [
        'an aggregator without a store',
        (c: any) => (c.processDefinitions[1].aggregator.stateStore = 'RawEvents'),
        'unknown kvStore for TotalAmount: RawEvents',
      ],
      [
        'a transformerRef to a tee',
        (c: any) => (c.processDefinitions[3].tee.transformerRef = 'FinalTee'),
        'FinalTee is not a transformer process',
      ],
      [
        'an entwine',
        (c: any) => (c.processDefinitions.push({ entwine: { name: 'E' } }), c.pipelines[0].processes.push({ name: 'E' })),
        'entwine is not supported yet',
      ],
      [
        'DynamoDB',
        (c: any) => (c.externalSystems[2].connectionString = 'dynamo:table'),
        'DynamoDB is not supported; point it at a store with TRIBUTARY_AGGLO_ORDER_STATE_KV=',
      ],
    ])('%s', (_what, mutate, message) => {
      expect(bad(mutate)).toThrow(message);
    });
  });
});

describe('agglo configs run end to end (aggloToDocument + buildFromDocument)', () => {
  it("the basic example's behaviour: before/after tees, annotation, running sum, regex transform, internal fields", async () => {
    const raw = path.join(tmp(), 'raw');
    const final = path.join(tmp(), 'final');
    const events = [
      { order: { kind: 'express' }, amount: 10.5, sku: 'sku-A1' },
      { order: { kind: 'standard' }, amount: 4 },
      { order: { kind: 'express' }, amount: 1.25, sku: 'sku-B2' },
    ];
    const doc = aggloToDocument(fixture('orders_pipeline.json'), {
      file: 'orders_pipeline.json',
      env: {
        TRIBUTARY_AGGLO_RAW_EVENTS: raw,
        TRIBUTARY_AGGLO_FINAL_EVENTS: final,
        TRIBUTARY_AGGLO_ORDER_STATE_KV: `mem:orders-${Date.now()}`,
      },
      input: { kind: 'from', options: { items: events } },
    });
    const { report, logs } = await runDocument(doc);
    expect(logs).toEqual([]);
    expect(report.failure).toBeUndefined();

    const before = readJsonDir(raw);
    const after = readJsonDir(final);
    expect(before).toHaveLength(3);
    expect(after).toHaveLength(3);
    // Before: the input plus the internal fields every pipeline adds.
    for (const { file, value } of before) {
      expect(file).toMatch(/\.json$/);
      expect(value['internal:messageID']).toMatch(UUID);
      expect(value['internal:name']).toBe('OrderPipeline');
      expect(value['internal:partitionID']).toBe('7b1f6c2e-4d0a-4e8b-9a51-3c2d9e0f1a77');
    }
    // After, found by message id: annotation, aggregation state, the before tee's record, the transform.
    const byId = (id: string) => after.find((a) => a.value['internal:messageID'] === id)!.value;
    const sums: number[] = [];
    for (const { file, value } of before) {
      const out = byId(value['internal:messageID']);
      expect(out['internal:tee:output']).toEqual([{ uuid: file.replace(/\.json$/, ''), outputType: 'localfile', connectionString: raw }]);
      expect(out.priority).toBe(value.order.kind === 'express' ? 'yes' : undefined);
      expect(out.skuCode).toBe(value.sku ? value.sku.slice(4) : undefined);
      const state = out['internal:aggregation:OrderPipeline'];
      expect(Object.keys(state)).toEqual(['amount:AggSum']);
      sums.push(state['amount:AggSum'].value);
    }
    // A running sum: each event saw the total up to itself (in arrival order).
    expect(sums.sort((a, b) => a - b)).toEqual([10.5, 14.5, 15.75]);
  });

  describe('mirroring to HTTP services (the traffic-bifurcate example)', () => {
    let server: http.Server;
    let port: number;
    const got: Array<{ path: string; body: Record<string, unknown> }> = [];
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        let s = '';
        req.on('data', (d) => (s += d));
        req.on('end', () => {
          got.push({ path: req.url!, body: JSON.parse(s) });
          res.writeHead(200).end(s);
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('every event to Live; only canary ones, transformed and with additionalBody, to Canary', async () => {
      const events = [1, 2, 3, 4, 5].map((i) => ({ id: i, qty: i * 10, canary: i % 2 ? 'yes' : 'no' }));
      const doc = aggloToDocument(fixture('mirror_pipeline.json'), {
        file: 'mirror_pipeline.json',
        env: {
          TRIBUTARY_AGGLO_LIVE_SERVICE: `http://127.0.0.1:${port}/live`,
          TRIBUTARY_AGGLO_CANARY_SERVICE: `http://127.0.0.1:${port}/canary`,
        },
        input: { kind: 'from', options: { items: events } },
      });
      const { logs } = await runDocument(doc);
      expect(logs).toEqual([]);
      const live = got.filter((g) => g.path === '/live').map((g) => g.body);
      const canary = got.filter((g) => g.path === '/canary').map((g) => g.body);
      expect(live.map((b) => b.id)).toEqual([1, 2, 3, 4, 5]);
      expect(canary.map((b) => b.id)).toEqual([1, 3, 5]);
      for (const b of canary) {
        expect(b).toMatchObject({
          mirrored: true,
          canary: 'yes',
          'internal:name': 'Mirror',
          'internal:partitionID': '0d9a3f4e-8c21-47b5-b6e3-5f1a2c3d4e5f',
        });
        expect(b.quantity).toBe(b.qty);
      }
      // Live gets the event after the canary tee ran: its record (with the echoed response) is there for canary events.
      expect((live[0]['internal:tee:output'] as unknown[]).length).toBe(1);
      expect(live[1]['internal:tee:output']).toBeUndefined();
    });
  });

  it('many processes, two pipelines from the same input: gate, filter, spawn, transform, object/KV/bus tees, completion', async () => {
    const completed = tmp();
    const objects = `manyObjects-${Date.now()}`;
    const kv = `manyTee-${Date.now()}`;
    const bus: unknown[] = [];
    const events = [
      { level: 'warn', debugInfo: 'x', tags: ['a', 'b'], stats: { count: 1 }, commit: 'c1' },
      { level: 'info', stats: { count: 9 }, muted: true },
      { level: 'info', stats: { count: 1 } },
      { build: { commit: 'c1' }, stats: { count: 0 } },
    ];
    const doc = aggloToDocument(fixture('many_pipeline.json'), {
      file: 'many_pipeline.json',
      env: { TRIBUTARY_AGGLO_OBJECTS: `mem:${objects}`, TRIBUTARY_AGGLO_TEE_KV: `mem:${kv}`, TRIBUTARY_AGGLO_COMPLETED: completed },
      connections: { JoinState: `mem:join-${Date.now()}` },
      input: { kind: 'from', options: { items: events } },
      sinks: { Bus: { kind: 'sink', options: { fn: (p: unknown) => void bus.push(p) } } },
    });
    const { net, logs } = await runDocument(doc, { allowExec: true });
    expect(logs).toEqual([]);
    const stats = (name: string) => net.snapshot().nodes.find((n) => n.name === name)!.stats;
    // The gate (warn|error, or count*2 >= 10) passes events 1 and 2, ends 3 and 4 quietly.
    expect(stats('Gate/only-interesting')).toMatchObject({ in: 4, out: 2, dropped: 2, errors: 0 });
    // Objects store got both passing events: debugInfo filtered out, echo output, tag count.
    const store = memoryObjectStore(objects);
    const written = await Promise.all((await store.list()).map(async (k) => JSON.parse(Buffer.from((await store.get(k))!).toString())));
    expect(written).toHaveLength(2);
    const warn = written.find((w) => w.level === 'warn');
    expect(warn).not.toHaveProperty('debugInfo');
    expect(warn).toMatchObject({ tagCount: 2, firstTag: 'a', 'internal:name': 'Gate' });
    expect(warn['internal:spawn:output'][0].echo).toMatchObject({ level: 'warn', tags: ['a', 'b'] });
    // KV tee with additionalBody.
    const kvEntries: unknown[] = [];
    for await (const [, v] of memoryKvStore(kv).list('')) kvEntries.push(v.value);
    expect(kvEntries).toHaveLength(2);
    expect(kvEntries.every((v) => (v as Record<string, unknown>).stored === true)).toBe(true);
    // Bus: only events with level and without muted, shaped by the bus-shape transformer.
    expect(bus).toEqual([{ severity: 'warn', count: 1 }]);
    // Joins: the build event completes the join started by the warn event's commit.
    const done = readJsonDir(completed).map((f) => f.value);
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ build: { commit: 'c1' }, 'internal:completion:join-build': 'complete', 'internal:name': 'Joins' });
  });
});

describe('agglo configs through the network file loader (lines in errors)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the loader, only for these specs
  const { loadNetworkText } = require('../../lib/declarative/load') as typeof import('../../lib/declarative/load');
  const text = fs.readFileSync(path.join(FIXTURES, 'mirror_pipeline.json'), 'utf8');
  const lineOf = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const load = (t: string) => loadNetworkText(new Network({ plugins: builtinPlugins() }), t, 'mirror.json', { env: {} });

  it('loads a config unchanged, with nodes named after pipeline and processes', () => {
    const built = load(text);
    expect(built.nodes).toEqual(['input', 'agglo:ingest', 'Mirror', 'Mirror/Send_to_Canary', 'Mirror/Send_to_Live', 'Mirror/end']);
  });

  it('a bad reference names the line in the config', () => {
    const bad = text.replace('"name": "Send to Live", "retryStrategy"', '"name": "Send to Nowhere", "retryStrategy"');
    expect(() => load(bad)).toThrow(`mirror.json:${lineOf('"name": "Send to Live", "retryStrategy"')}:`);
    expect(() => load(bad)).toThrow('pipelines[0].processes[1].name: cannot find process: Send to Nowhere');
  });

  it('an unknown field names its line', () => {
    const bad = text.replace('"op": "Equal"', '"op": "Equal", "negate": true');
    expect(() => load(bad)).toThrow(new RegExp(`^mirror\\.json:${lineOf('"op": "Equal"')}:\\d+: .*unknown field 'negate'`));
  });

  it('an error found when the node is built (a bad regex) names the line of the process definition', () => {
    const bad = text.replace('"rhs": { "literal": "yes" }, "op": "Equal"', '"rhs": { "literal": "(" }, "op": "RegexMatch"');
    expect(() => load(bad)).toThrow(/^mirror\.json:\d+:\d+: .*invalid regex "\("/);
    const line = Number(
      /^mirror\.json:(\d+):/.exec(
        (() => {
          try {
            load(bad);
            return '';
          } catch (e) {
            return (e as Error).message;
          }
        })(),
      )![1],
    );
    expect(line).toBeGreaterThanOrEqual(lineOf('"name": "Send to Canary",'));
  });
});
