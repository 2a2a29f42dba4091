import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { Network, nodes } from 'tributary';
import { networkMetrics } from 'tributary/observe';
import { builtinPlugins } from 'tributary/plugins';
import { captureLogger } from '../connectors/helpers';
import { parseProm, sampleValue } from './prom-text';

/** from 1..n → where (drops odd) → map (fails on 4) → sink; errors routed to a dead-letter sink. */
function build(n: number, metrics: boolean | { sampleEvery: number } = true) {
  const net = new Network({ logger: captureLogger(), metrics });
  net.add('numbers', nodes.from({ items: Array.from({ length: n }, (_, i) => i + 1) }));
  net.add('even', nodes.where({ fn: (x: number) => x % 2 === 0 }));
  net.add(
    'tenfold',
    nodes.map({
      fn: (x: number) => {
        if (x === 4) throw new Error('four is not allowed');
        return x * 10;
      },
    }),
  );
  net.add('out', nodes.sink({ fn: () => undefined }));
  net.add('dead', nodes.sink({ fn: () => undefined }));
  net.link('numbers', 'even').link('even', 'tenfold').link('tenfold', 'out');
  net.routeErrors('tenfold', 'dead');
  return net;
}

describe('Prometheus metrics of a network', () => {
  it('after a drain, every counter equals net.stats() exactly, per node with node and kind labels', async () => {
    const net = build(1000);
    const registry = net.metrics();
    await net.start();
    await net.done();
    const { samples, types } = parseProm(await registry.metrics());
    const stats = net.stats();
    const kinds: Record<string, string> = { numbers: 'from', even: 'where', tenfold: 'map', out: 'sink', dead: 'sink' };
    const names = { in: 'events_in', out: 'events_out', errors: 'errors', acked: 'acked', nacked: 'nacked', dropped: 'dropped' } as const;
    for (const [node, s] of Object.entries(stats)) {
      for (const [key, name] of Object.entries(names)) {
        expect([node, key, sampleValue(samples, `tributary_node_${name}_total`, { node, kind: kinds[node] })]).toEqual([
          node,
          key,
          s[key as keyof typeof s],
        ]);
      }
      expect(sampleValue(samples, 'tributary_node_in_flight', { node })).toBe(0);
    }
    // The figures are the real ones, not zeros: 500 even numbers, one of them failed.
    expect(stats.even).toMatchObject({ in: 1000, out: 500, dropped: 500 });
    expect(stats.tenfold.errors).toBe(1);
    expect(types.get('tributary_node_events_in_total')).toBe('counter');
    expect(types.get('tributary_node_processing_seconds')).toBe('histogram');
    // Sampled timings: the first call of the map, then 1 in 256 (500 calls).
    expect(sampleValue(samples, 'tributary_node_processing_seconds_count', { node: 'tenfold' })).toBe(1 + Math.floor(499 / 256));
    expect(sampleValue(samples, 'tributary_node_processing_seconds_bucket', { node: 'tenfold', le: '+Inf' })).toBe(
      1 + Math.floor(499 / 256),
    );
    // Process metrics come along.
    expect(samples.some((s) => s.name === 'tributary_process_resident_memory_bytes')).toBe(true);
  });

  it('times nothing with metrics off, and keeps counting', async () => {
    const net = build(200, false);
    await net.start();
    await net.done();
    const { samples } = parseProm(await networkMetrics(net, { processMetrics: false }).metrics());
    expect(samples.filter((s) => s.name.startsWith('tributary_node_processing_seconds'))).toEqual([]);
    expect(sampleValue(samples, 'tributary_node_events_in_total', { node: 'even' })).toBe(200);
  });

  it('merges into the host registry and takes a prefix', async () => {
    const host = new Registry();
    const net = build(10);
    networkMetrics(net, { registry: host, prefix: 'app_tb_', processMetrics: false });
    await net.start();
    await net.done();
    const { samples } = parseProm(await host.metrics());
    expect(sampleValue(samples, 'app_tb_node_events_in_total', { node: 'even' })).toBe(10);
    const merged = Registry.merge([new Registry(), net.metrics()]);
    expect(await merged.metrics()).toContain('tributary_node_events_in_total{node="even",kind="where"} 10');
  });

  it('shows events in flight and gauges while the network runs', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const net = new Network({ logger: captureLogger() });
    net.add('numbers', nodes.from({ items: [1, 2, 3] }));
    net.add('slow', nodes.sink({ fn: () => gate, concurrency: 1 }));
    net.link('numbers', 'slow');
    await net.start();
    const running = parseProm(await net.metrics().metrics()).samples;
    expect(sampleValue(running, 'tributary_node_in_flight', { node: 'slow' })).toBe(3);
    // One call under way (concurrency 1), two waiting for the worker.
    expect(sampleValue(running, 'tributary_node_gauge', { node: 'slow', gauge: 'running' })).toBe(1);
    expect(sampleValue(running, 'tributary_node_gauge', { node: 'slow', gauge: 'queue_depth' })).toBe(2);
    expect(sampleValue(running, 'tributary_network_running', {})).toBe(1);
    release();
    await net.done();
    const after = parseProm(await net.metrics().metrics()).samples;
    expect(sampleValue(after, 'tributary_node_in_flight', { node: 'slow' })).toBe(0);
    expect(sampleValue(after, 'tributary_network_running', {})).toBe(0);
  });

  it('refuses a sampling rate that is not a whole number of calls', () => {
    expect(() => new Network({ metrics: { sampleEvery: 0 } })).toThrow("option 'metrics.sampleEvery' must be a whole number");
  });
});

describe('docs/operations.md', () => {
  it('lists exactly the node and network metrics a scrape shows, and the gauges a file source publishes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-ops-doc-'));
    const file = path.join(dir, 'in.ndjson');
    writeFileSync(file, '1\n2\n3\n');
    const net = new Network({ logger: captureLogger(), metrics: true, plugins: builtinPlugins() });
    net.create('file_source', 'lines', { path: file });
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.link('lines', 'out');
    await net.start();
    await net.done();
    const { samples } = parseProm(await networkMetrics(net, { processMetrics: false }).metrics());
    const gauges = samples.filter((s) => s.name === 'tributary_node_gauge' && s.labels.node === 'lines');
    expect(Object.fromEntries(gauges.map((g) => [g.labels.gauge, g.value]))).toMatchObject({ read: 6, total: 6, lag: 0, in_flight: 0 });
    const shown = new Set(samples.map((s) => s.name.replace(/_(bucket|sum|count)$/, '')));
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(tributary_[a-z_]+)` \|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...shown].sort());
  });
});
