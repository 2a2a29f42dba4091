import { defineCase } from '../case';

/**
 * Issue 17: as scale-out-stateless, with ~0.85 ms of Lua hashing per event, so the work
 * outweighs what nats-server spends per message (delivery and ack, on the same 2 cores).
 */
export default defineCase({
  name: 'scale-out-heavy',
  ours: { label: '2 tributary run processes, one durable', script: 'bench/sides/scale-out.ts', args: ['2', '20000', '8000', '256', '1'] },
  anchor: { label: '1 tributary run process', script: 'bench/sides/scale-out.ts', args: ['1', '20000', '8000', '256', '1'] },
  target: 0.59,
  note: 'ratio = time of 2 processes / time of 1 (speed-up = 1/ratio)',
});
