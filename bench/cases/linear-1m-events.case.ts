import { defineCase } from '../case';

export default defineCase({
  name: 'linear-1m-events',
  ours: {
    label: 'network from→where→map→sink, functions reading the event',
    script: 'bench/sides/linear-network.ts',
    args: ['1000000', 'event'],
  },
  anchor: { label: 'RxJS pipe over event objects (eventAt, withPayload)', script: 'bench/sides/linear-event-pipe.ts', args: ['1000000'] },
  note: 'diagnostic, no target: the event path (every function reads its event, so every event is made) against a pipe carrying the same event objects',
});
