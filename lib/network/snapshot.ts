import type { NodeProgress, NodeStats, Role } from '../nodes/types';
import type { NetworkState } from './lifecycle';
import type { ProbeReading } from './probe';

/** One node as of now: counters, events in flight, sampled timings, gauges and last errors. */
export interface NodeSnapshot {
  name: string;
  role: Role;
  kind: string;
  stats: NodeStats;
  /**
   * Events in the node: received but not yet emitted or dropped (pipelines), received and not
   * yet finished (sinks that report it, as every `sinkStage` does), emitted but not yet settled
   * downstream (sources that publish an `in_flight` gauge).
   */
  inFlight: number;
  /** Sampled processing time: cumulative bucket counts (see TIMING_BUCKETS, then +Inf), sum and count. */
  timing: { buckets: number[]; sum: number; count: number };
  /** Gauges the node published, read now (a gauge that throws reads as NaN). */
  gauges: Record<string, { help: string; value: number }>;
  /** The node's last error messages, newest last. */
  errors: string[];
}

/** The whole network as of now, as plain data: what metrics, the live page and progress read. */
export interface NetworkSnapshot {
  state: NetworkState;
  /** The network scheduler's time (ms). */
  at: number;
  nodes: NodeSnapshot[];
}

/**
 * A node's snapshot from its counters and probe reading.
 *
 * @example
 * ```ts
 * nodeSnapshot('enrich', 'pipeline', 'map', stats, probe.reading(), ctx.progress());
 * ```
 */
export function nodeSnapshot(
  name: string,
  role: Role,
  kind: string,
  stats: NodeStats,
  r: ProbeReading,
  progress: NodeProgress = {},
): NodeSnapshot {
  const gauges: Record<string, { help: string; value: number }> = {};
  // What the node reports of its progress (see NodeContext.reportProgress), as gauges.
  const unit = progress.unit ? ` (${progress.unit})` : '';
  if (progress.inFlight !== undefined)
    gauges.in_flight = { help: 'events emitted and not yet settled downstream', value: progress.inFlight };
  if (progress.read !== undefined) gauges.read = { help: `input consumed${unit}`, value: progress.read };
  if (progress.total !== undefined) gauges.total = { help: `the whole input, when known${unit}`, value: progress.total };
  if (progress.lag !== undefined) gauges.lag = { help: `input known to be waiting${unit}`, value: progress.lag };
  for (const [g, { help, read }] of r.gauges) {
    let value: number;
    try {
      value = Number(read());
    } catch {
      value = NaN;
    }
    gauges[g] = { help, value };
  }
  const inFlight =
    role === 'source'
      ? Math.max(0, gauges.in_flight?.value || 0)
      : role === 'sink'
        ? Math.max(0, stats.in - (r.finished ?? stats.acked + stats.nacked))
        : Math.max(0, stats.in - stats.out - stats.dropped);
  // A node that reports its calls under way: the rest of what is in it waits for a worker.
  if (gauges.running !== undefined) {
    gauges.queue_depth = {
      help: 'events waiting for a worker (in flight minus calls under way)',
      value: Math.max(0, inFlight - gauges.running.value),
    };
  }
  return { name, role, kind, stats, inFlight, timing: { buckets: r.buckets, sum: r.sum, count: r.count }, gauges, errors: [...r.errors] };
}
