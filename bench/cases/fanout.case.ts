import { defineCase } from '../case';

export default defineCase({
  name: 'fanout',
  ours: { label: 'network fan-out 3 maps, fan-in sink', script: 'bench/sides/fanout-network.ts', args: ['1000000'] },
  anchor: { label: 'RxJS connectable + 3 maps + merge', script: 'bench/sides/fanout-rxjs.ts', args: ['1000000'] },
  target: 1.05,
});
