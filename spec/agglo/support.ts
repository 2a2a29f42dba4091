import { asyncScheduler, from } from 'rxjs';
import { Network, nodes, type NetworkOptions } from 'tributary';
import { DeliveryProbe, type Settled } from 'tributary/testing';
import type { NodeSpec } from '../../lib/nodes/types';
import { aggloPlugin } from '../../lib/agglo/plugin';

/** A logger that keeps what it is told. */
export function memoryLogger(): { warn(m: string): void; error(m: string): void; info(): void; lines: string[] } {
  const lines: string[] = [];
  return { warn: (m) => void lines.push(m), error: (m) => void lines.push(m), info: () => undefined, lines };
}

export interface Run {
  /** Payloads that reached the end of the chain. */
  out: unknown[];
  /** How each input was settled (acked / nacked and why). */
  log: Settled<unknown>[];
  net: Network;
  logs: string[];
}

/**
 * Runs `items` through a chain of nodes in a real network (asyncScheduler: processes do real
 * IO) and waits for the drain: what came out, how each input was settled.
 */
export async function runChain(chain: Array<[string, NodeSpec]>, items: unknown[], options: NetworkOptions = {}): Promise<Run> {
  const logger = memoryLogger();
  const net = new Network({ logger, plugins: [aggloPlugin], ...options });
  const probe = new DeliveryProbe<unknown>(asyncScheduler);
  net.add('in', probe.source(from(items)));
  let prev = 'in';
  for (const [name, spec] of chain) {
    net.add(name, spec);
    net.link(prev, name);
    prev = name;
  }
  const out: unknown[] = [];
  net.add('out', nodes.sink({ fn: (p: unknown) => void out.push(p) }));
  net.link(prev, 'out');
  await net.start();
  await net.done();
  return { out, log: probe.log, net, logs: logger.lines };
}

/** The nack reasons of a run, as messages. */
export function nackReasons(run: Run): string[] {
  return run.log.filter((s) => !s.acked).map((s) => (s.reason instanceof Error ? s.reason.message : String(s.reason)));
}
