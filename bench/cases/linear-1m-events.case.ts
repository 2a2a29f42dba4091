import { defineCase } from '../case';

export default defineCase({
  name: 'linear-1m-events',
  ours: { label: 'network from→where→map→sink', script: 'bench/sides/linear-network.ts', args: ['1000000'] },
  anchor: { label: 'RxJS pipe over event objects (eventAt, withPayload)', script: 'bench/sides/linear-event-pipe.ts', args: ['1000000'] },
  note: 'diagnostic, no target: how much of linear-1m is the event model (objects per item) rather than the engine',
});
