import type { Registry } from 'prom-client';
import type { Network } from '../network/network';
import { TIMING_BUCKETS } from '../network/probe';
import type { NetworkSnapshot, NodeSnapshot } from '../network/snapshot';
import type { NodeStats } from '../nodes/types';

/** Options of {@link networkMetrics}. */
export interface NetworkMetricsOptions {
  /** Add to this registry (the host's own) instead of a new one. */
  registry?: Registry;
  /** Metric name prefix. Default `tributary_`. */
  prefix?: string;
  /** Also collect prom-client's default process metrics (CPU, memory, event loop lag …). Default true. */
  processMetrics?: boolean;
}

type MetricType = 'counter' | 'gauge' | 'histogram';
interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A metric prom-client's registry reads through `get()`, computed from the snapshot of the scrape. */
interface SnapshotMetric {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

const COUNTERS: [keyof NodeStats, string, string][] = [
  ['in', 'events_in_total', 'events that reached the node'],
  ['out', 'events_out_total', 'events the node emitted'],
  ['errors', 'errors_total', 'error events the node produced'],
  ['acked', 'acked_total', 'deliveries the node acked'],
  ['nacked', 'nacked_total', 'deliveries the node nacked'],
  ['dropped', 'dropped_total', 'events the node dropped on purpose (filters, rate limits, dedupe)'],
];

/**
 * Prometheus metrics of a network, read from {@link Network.snapshot} when scraped (nothing
 * extra runs per event): per node (labels `node`, `kind`) the counters of `net.stats()`, events
 * in flight, the sampled processing-time histogram (with the network's `metrics` option on),
 * and every gauge a node publishes (`tributary_node_gauge{gauge="rows"}` …);
 * plus prom-client's process metrics. Returns the registry, to serve or merge into the host's.
 *
 * @example
 * ```ts
 * const net = new Network({ metrics: true });
 * const registry = networkMetrics(net);
 * http.createServer(async (_req, res) => res.end(await registry.metrics())).listen(9464);
 * ```
 */
export function networkMetrics(net: Network, options: NetworkMetricsOptions = {}): Registry {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when metrics are asked for, not with the core
  const prom = require('prom-client') as typeof import('prom-client');
  const registry = options.registry ?? new prom.Registry();
  const p = options.prefix ?? 'tributary_';
  // One snapshot per scrape: the registry asks every metric within the same tick, so they all
  // read the same moment; the next scrape takes a new one.
  let cached: NetworkSnapshot | undefined;
  const snapshot = () => {
    if (!cached) {
      cached = net.snapshot();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
  const metric = (name: string, help: string, type: MetricType, values: (s: NetworkSnapshot) => Sample[]): void => {
    const m: SnapshotMetric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, aggregator: 'sum', values: values(snapshot()) }),
      reset: () => undefined,
    };
    registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
  };
  const labels = (n: NodeSnapshot) => ({ node: n.name, kind: n.kind });

  for (const [key, suffix, help] of COUNTERS) {
    metric(`${p}node_${suffix}`, help, 'counter', (s) => s.nodes.map((n) => ({ value: n.stats[key], labels: labels(n) })));
  }
  metric(
    `${p}node_in_flight`,
    'events in the node: received and not yet emitted, dropped or settled (queued ones included)',
    'gauge',
    (s) => s.nodes.map((n) => ({ value: n.inFlight, labels: labels(n) })),
  );
  const hist = `${p}node_processing_seconds`;
  metric(hist, 'time a node spent on one event, sampled (network option metrics)', 'histogram', (s) =>
    s.nodes
      .filter((n) => n.timing.count > 0)
      .flatMap((n) => [
        ...n.timing.buckets.map((v, i) => ({
          value: v,
          labels: { ...labels(n), le: i < TIMING_BUCKETS.length ? TIMING_BUCKETS[i] : '+Inf' },
          metricName: `${hist}_bucket`,
        })),
        { value: n.timing.sum, labels: labels(n), metricName: `${hist}_sum` },
        { value: n.timing.count, labels: labels(n), metricName: `${hist}_count` },
      ]),
  );
  metric(`${p}network_running`, '1 while the network runs (started and not stopping)', 'gauge', (s) => [
    { value: s.state === 'running' ? 1 : 0, labels: {} },
  ]);
  metric(
    `${p}node_gauge`,
    'gauges nodes publish, by name: in_flight (bus and file sources), rows (windows), bytes_left (file sources) …',
    'gauge',
    (s) => s.nodes.flatMap((n) => Object.entries(n.gauges).map(([g, { value }]) => ({ value, labels: { ...labels(n), gauge: g } }))),
  );
  if (options.processMetrics !== false) prom.collectDefaultMetrics({ register: registry, prefix: p });
  return registry;
}
