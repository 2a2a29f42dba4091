// aggregate and complete inside networks: created from Lua through create_*, and sharing one
// store per URL through the network's agglo state service.
import { aggregate } from '../../lib/agglo/aggregate';
import { complete } from '../../lib/agglo/complete';
import { AGGLO_STATE_SERVICE, aggloStateService, StateStores } from '../../lib/agglo/stateful';
import { Network, definePlugin, nodes } from '../../lib/index';
import { LuaRuntime } from '../../lib/lua/index';
import type { KeyValueStore } from '../../lib/state/types';
import { memoryStore } from '../../lib/state/memory';
import { quiet } from './state-support';

const plugin = definePlugin({
  name: 'agglo-state-spec',
  kinds: [aggregate, complete],
  services: { [AGGLO_STATE_SERVICE]: aggloStateService },
});

describe('aggregate and complete in networks', () => {
  it.each([aggregate.kind, complete.kind].map((k) => [k.name, k.luaExample!]))(
    '%s: its Lua example runs through create_*',
    (name, example) => {
      const network = new Network({ plugins: [plugin] });
      const runtime = new LuaRuntime(network);
      try {
        runtime.runString(`local tb = require('tributary')\n${example}`, `${name}.lua`);
      } finally {
        runtime.close();
      }
      expect(Object.keys(network.edges()).map((n) => network.get(n)!.kind)).toContain(name);
    },
  );

  it('nodes naming one store URL share one store (agglo mem:name is one map for all its processes)', async () => {
    let opened = 0;
    let closed = 0;
    const stores = new StateStores(() => Promise.reject(new Error('not used')));
    const originalOpen = stores.open.bind(stores);
    stores.open = async (url: string): Promise<KeyValueStore> => {
      const kv = await originalOpen(url);
      opened++;
      return kv;
    };
    const originalClose = stores.closeAll.bind(stores);
    stores.closeAll = () => {
      closed++;
      return originalClose();
    };
    const net = new Network({ logger: quiet });
    net.provide(AGGLO_STATE_SERVICE, stores);
    const seen: unknown[] = [];
    net.add(
      'in',
      nodes.from({
        items: [
          { 'internal:name': 'P', n: 2, who: 'ann' },
          { 'internal:name': 'P', n: 3, who: 'bob' },
        ],
      }),
    );
    net.add('sum', aggregate({ aggregation: { key: 'n', aggregationType: 'AggSum' }, stateStore: 'mem:shared' }));
    net.add(
      'hist',
      aggregate({ aggregation: { key: 'who', aggregationType: 'AggDiscreteHistogram' }, stateStore: 'memory:shared', forwardState: true }),
    );
    net.add('out', nodes.sink({ fn: (p: unknown) => void seen.push(p) }));
    net.link('in', 'sum');
    net.link('sum', 'hist');
    net.link('hist', 'out');
    await net.start();
    await net.done();
    expect(seen[1]).toMatchObject({
      'internal:aggregation:P': { 'n:AggSum': { value: 5 }, 'who:AggDiscreteHistogram': { buckets: { ann: 1, bob: 1 } } },
    });
    expect(opened).toBeGreaterThan(0);
    expect(closed).toBe(0); // provided by hand: the network does not close what it was given
    await stores.closeAll();
  });

  it('a store given as an object is used as it is', async () => {
    const kv = memoryStore();
    const net = new Network({ logger: quiet, plugins: [plugin] });
    net.add('in', nodes.from({ items: [{ head: 'h' }, { tail: 'h' }] }));
    net.add('join', complete({ completion: { joinKeys: ['head', 'tail'] }, stateStore: kv }));
    const seen: Array<Record<string, unknown>> = [];
    net.add('out', nodes.sink({ fn: (p: Record<string, unknown>) => void seen.push(p) }));
    net.link('in', 'join');
    net.link('join', 'out');
    await net.start();
    await net.done();
    expect(seen.map((p) => p['internal:completion:join'])).toEqual(['triggered', 'complete']);
  });
});
