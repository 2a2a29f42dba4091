import { Registry } from './registry';
import { ticker } from './ticker';
import { forwarder } from './forwarder';
import { discarder } from './discarder';
import { ratelimit } from './ratelimit';
import { tester, printer } from './tester';
import { map } from './map';
import { where } from './where';
import { flatmap } from './flatmap';
import { tap } from './tap';
import { delay } from './delay';
import { buffer } from './buffer';
import { dedupe } from './dedupe';
import { interceptor } from './interceptor';
import { injector } from './injector';
import { sink, handler } from './sink';
import { from } from './from';
import { operator, eventOperator, observable } from './adapters';
import type { LazyPlugin, Plugin } from './plugin';

/**
 * The built-in node factories: `nodes.ticker({ interval: '500ms' })`, `nodes.map({ fn })` …
 * plus adapters for plain RxJS (`nodes.operator`, `nodes.eventOperator`, `nodes.observable`).
 *
 * @example
 * ```ts
 * net.add('ticker_500ms', nodes.ticker({ interval: '500ms' }));
 * ```
 */
export const nodes = {
  ticker,
  forwarder,
  discarder,
  ratelimit,
  tester,
  printer,
  map,
  where,
  flatmap,
  tap,
  delay,
  buffer,
  dedupe,
  interceptor,
  injector,
  handler,
  sink,
  from,
  operator,
  eventOperator,
  observable,
};

/** Every core node kind, in catalogue order (the adapters are factories, not kinds). */
export const builtinKinds = Object.values(nodes).flatMap((f) => ('kind' in f ? [f.kind] : []));

/**
 * A new registry holding the core kinds, plus the plugins given; yours to extend. The
 * families (windows, connectors, …) are plugins: `tributary/plugins` has them all.
 *
 * @example
 * ```ts
 * const registry = createRegistry({ plugins: [windowsPlugin()] }).register(myKind);
 * const net = new Network({ registry });
 * ```
 */
export function createRegistry(options: { plugins?: readonly (Plugin | LazyPlugin)[] } = {}): Registry {
  const registry = new Registry(builtinKinds);
  for (const p of options.plugins ?? []) registry.use(p);
  return registry;
}
