import { defineCase } from '../case';

/**
 * Issue 17: a stateless CPU-bound network (a Lua map doing ~100 µs of hashing per event) on
 * one JetStream durable consumer, drained by 2 `tributary run` processes against 1. The ratio
 * is 2-process time / 1-process time: ≤ 0.59 means 2 processes reach ≥ 1.7× the throughput.
 */
export default defineCase({
  name: 'scale-out-stateless',
  ours: { label: '2 tributary run processes, one durable', script: 'bench/sides/scale-out.ts', args: ['2', '100000', '900', '256', '1'] },
  anchor: { label: '1 tributary run process', script: 'bench/sides/scale-out.ts', args: ['1', '100000', '900', '256', '1'] },
  target: 0.59,
  note: 'ratio = time of 2 processes / time of 1 (speed-up = 1/ratio); nats-server shares the 2 cores (natsCpuMs in each side report)',
});
