// complete against every store (memory and SQLite always, Redis under TRIBUTARY_REDIS_URL,
// MariaDB under TRIBUTARY_MYSQL_URL), on virtual time: the clock waits for the store between
// frames, so timeouts are exact however slow the store is.
import { complete } from '../../lib/agglo/complete';
import { Network } from '../../lib/network/network';
import type { KeyValueStore } from '../../lib/state/types';
import { VirtualClock, VirtualTime } from '../../lib/testing';
import { backends, quiet, removeAll, runNode, tracked, uniq } from './state-support';

describe.each(backends())('complete on $name', (backend) => {
  let kv: KeyValueStore;
  let name: string;
  beforeEach(async () => {
    kv = await backend.open();
    name = uniq('join');
  });
  afterEach(async () => {
    await removeAll(kv, `default:${name}:`);
    await kv.close();
  });

  it('triggered, complete (state deleted), timedout, and the timed-out join removed by its timer', async () => {
    const store = tracked(kv);
    const t = new VirtualTime();
    const net = new Network({ scheduler: t.scheduler, logger: quiet });
    const v = { a: { head: 'x' }, b: { cicdVcsHash: 'x' }, c: { head: 'y' }, d: { cicdVcsHash: 'y' } };
    net.add('in', t.source('a 99ms b 99ms c 1099ms d 1999ms |', v)); // runs on past the clean-up
    net.add('join', complete({ name, completion: { joinKeys: ['head', 'cicdVcsHash'], timeoutMs: 1000 }, stateStore: store }));
    const out = t.sink();
    net.add('out', out.node);
    net.link('in', 'join');
    net.link('join', 'out');
    const clock = new VirtualClock(t.scheduler, store);
    await clock.start(net);
    await clock.advanceTo(150);
    expect(await kv.get(`default:${name}:c:x`)).toBeUndefined(); // completed: deleted
    await clock.advanceTo(1400);
    expect((await kv.get(`default:${name}:c:y`))?.value).toMatchObject({ deadline: 1200 });
    await clock.advanceTo(2200); // deadline 1200 + late window 1000
    expect(await kv.get(`default:${name}:c:y`)).toBeUndefined();
    await clock.stop(net);
    const S = `internal:completion:${name}`;
    expect(out.frames.map((f) => [f.frame, (f.value as Record<string, unknown>)[S]])).toEqual([
      [0, 'triggered'],
      [100, 'complete'],
      [200, 'triggered'],
      [1300, 'timedout'],
    ]);
  });

  it('two nodes on one store complete every join once under parallel updates', async () => {
    const n = backend.name === 'memory' ? 100 : 25;
    const spec = { joinKeys: ['l', 'r'], timeoutMs: 0 };
    const left = Array.from({ length: n }, (_, i) => ({ l: i }));
    const right = Array.from({ length: n }, (_, i) => ({ r: i }));
    const [a, b] = await Promise.all([
      runNode(complete({ name, completion: spec, stateStore: kv }), left, 'a'),
      runNode(complete({ name, completion: spec, stateStore: kv }), right, 'b'),
    ]);
    const statuses = [...a, ...b].map((e) => e.error?.message ?? (e.payload as Record<string, unknown>)[`internal:completion:${name}`]);
    expect(statuses.filter((s) => s === 'complete')).toHaveLength(n);
    expect(statuses.filter((s) => s === 'triggered')).toHaveLength(n);
  }, 60_000);
});
