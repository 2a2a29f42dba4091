import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Network } from 'tributary';
import { aggloToDocument } from '../../lib/agglo/config';
import { buildFromDocument } from '../../lib/declarative/build';
import { builtinPlugins } from '../../lib/plugins';
import { memoryLogger } from './support';

const URL = process.env.TRIBUTARY_REDIS_URL;
const suite = URL ? describe : describe.skip;

suite(`agglo pub/sub tee to Redis at ${URL ?? '(set TRIBUTARY_REDIS_URL to run)'}`, () => {
  it('an ExternalPubSub pointed at redis://…/<channel> publishes what the tee writes; other events are not published', async () => {
    const channel = `agglo-proc:${randomUUID().slice(0, 8)}`;
    const sub = new Redis(URL!);
    const got: unknown[] = [];
    await sub.subscribe(channel);
    sub.on('message', (_c, m) => got.push(JSON.parse(m)));
    try {
      const config = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'many_pipeline.json'), 'utf8'));
      const base = URL!.replace(/\/\d*$/, '');
      const doc = aggloToDocument(config, {
        file: 'many_pipeline.json',
        env: { TRIBUTARY_AGGLO_BUS: `${base}/${encodeURIComponent(channel)}`, TRIBUTARY_AGGLO_OBJECTS: `mem:bus-${channel}` },
        connections: {
          TeeKV: `mem:bus-kv-${channel}`,
          JoinState: `mem:bus-join-${channel}`,
          Completed: fs.mkdtempSync('/tmp/agglo-proc-bus-'),
        },
        input: {
          kind: 'from',
          options: {
            items: [
              { level: 'error', stats: { count: 4 } },
              { level: 'warn', stats: { count: 1 }, muted: true },
              { level: 'info', stats: { count: 0 } },
            ],
          },
        },
      });
      expect(doc.nodes.find((n) => n.name === 'Gate/to-bus#sink')!.kind).toBe('redis_pubsub_sink');
      const logger = memoryLogger();
      const net = new Network({ plugins: builtinPlugins(), logger, allowExec: true });
      buildFromDocument(net, doc, { file: 'many_pipeline.json', env: {} });
      await net.start();
      await net.done();
      expect(logger.lines).toEqual([]);
      // Published before the network drained (acked by Redis); give the subscriber's socket a moment to deliver.
      for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([{ severity: 'error', count: 4 }]);
    } finally {
      sub.disconnect();
    }
  });
});
