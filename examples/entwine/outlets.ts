// Two news outlets keep their own tamper-evident timelines (substreams A and B) and anchor them
// to one ticker: outlet A every 3 stories, outlet B every 2 (agglo's entwine example).
// Run a ticker first: `tributary ticker serve --port 8081 --store ./ticker`.
import type { SchedulerLike } from 'rxjs';
import { Network, nodes } from 'tributary';
import { entwine, entwinePlugin } from 'tributary/entwine';

/** Options of {@link outletNetwork}. */
export interface OutletOptions {
  /** The outlet's substream id, e.g. 'A'. */
  outlet: string;
  /** Its stories, in publication order. */
  stories: { headline: string; draft?: boolean }[];
  /** Where its substream is kept (a directory or a state store URL). */
  store: string;
  /** Its Ed25519 private key (PEM file). */
  privateKey: string;
  /** The ticker's URL. */
  ticker: string;
  /** Anchor every this many stories. */
  anchorEvery: number;
  scheduler?: SchedulerLike;
}

/**
 * One outlet's network: its stories go through `entwine` (drafts are not published, so not
 * appended) and on to a sink that stands for the web site.
 *
 * @example
 * ```ts
 * const net = outletNetwork({ outlet: 'A', stories, store: './chains', privateKey: './keys/a.pem',
 *   ticker: 'http://127.0.0.1:8081', anchorEvery: 3 });
 * await net.start();
 * await net.stop(); // drained: every published story is in the chain
 * ```
 */
export function outletNetwork(o: OutletOptions): Network {
  const net = new Network({ plugins: [entwinePlugin], scheduler: o.scheduler });
  net.add('stories', nodes.from({ items: o.stories }));
  net.add(
    'timeline',
    entwine({
      store: o.store,
      substream: o.outlet,
      privateKey: o.privateKey,
      ticker: o.ticker,
      anchorEvery: o.anchorEvery,
      condition: (s: { draft?: boolean }) => !s.draft,
    }),
  );
  net.add('site', nodes.sink({ fn: () => undefined }));
  net.link('stories', 'timeline');
  net.link('timeline', 'site');
  return net;
}
