import { defineCase } from '../case';

export default defineCase({
  name: 'serve-durable',
  ours: { label: 'serve --durable-queue (202 after fsync)', script: 'bench/sides/serve-requests.ts', args: ['durable', '5000', '32'] },
  anchor: {
    label: 'tributary serve, stateless (200 after processing)',
    script: 'bench/sides/serve-requests.ts',
    args: ['stateless', '5000', '32'],
  },
  note: 'not the same guarantee: the ratio is the price of durability (one fsync per group commit); processedMs = until the queue is empty',
});
