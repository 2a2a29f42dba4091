import { defineCase } from '../case';

export default defineCase({
  name: 'linear-10m',
  ours: { label: 'network from→where→map→sink', script: 'bench/sides/linear-network.ts', args: ['10000000'] },
  anchor: { label: 'RxJS pipe from→filter→map→subscribe', script: 'bench/sides/linear-pipe.ts', args: ['10000000'] },
  target: 1.2,
  note: 'peak RSS should stay within 10% of the pipe',
});
