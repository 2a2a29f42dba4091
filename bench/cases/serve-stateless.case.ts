import { defineCase } from '../case';

export default defineCase({
  name: 'serve-stateless',
  ours: { label: 'tributary serve (200 after processing)', script: 'bench/sides/serve-requests.ts', args: ['stateless', '5000', '32'] },
  anchor: { label: 'http_source respond: acked', script: 'bench/sides/serve-requests.ts', args: ['http-source', '5000', '32'] },
  target: 1.2,
  note: 'same guarantee: 200 once the event was processed; one JSON event per request',
});
