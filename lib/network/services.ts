import { TributaryError, errorMessage } from '../errors';
import type { ServiceProvider } from '../nodes/plugin';
import type { Registry } from '../nodes/registry';
import type { Logger, NodeSpec } from '../nodes/types';

/** A service a node needs, nobody provided, and a plugin's provider can open. */
export interface PendingService {
  key: string;
  provider: ServiceProvider;
}

/**
 * A network's shared services: those given to it (`services` option, `provide`) and those it
 * opened itself from plugin providers because a node needed them. Only what it opened is
 * closed, since what the user provided the user owns.
 *
 * @example
 * ```ts
 * const services = new NetworkServices({ db }, logger);
 * await services.open(services.pending(graph.nodes.values(), registry));
 * // … run …
 * await services.close();
 * ```
 */
export class NetworkServices {
  /** The live map node contexts read from; opening adds to it. */
  readonly map = new Map<string, unknown>();
  private readonly opened: { key: string; provider: ServiceProvider; service: unknown }[] = [];
  private closing?: Promise<void>;

  constructor(
    initial: Record<string, unknown>,
    private readonly logger: Logger,
  ) {
    for (const [k, v] of Object.entries(initial)) this.map.set(k, v);
  }

  /**
   * Services the nodes need that nobody provided but a plugin can open, with their providers.
   *
   * @example
   * ```ts
   * if (services.pending(specs, registry).length === 0) startNow();
   * ```
   */
  pending(specs: Iterable<NodeSpec>, registry: Registry): PendingService[] {
    const needed = new Set<string>();
    for (const spec of specs) for (const key of spec.services ?? []) if (!this.map.has(key)) needed.add(key);
    const out: PendingService[] = [];
    // A key without a provider is left to the node's own lookup, which names the node and the key.
    for (const key of needed) {
      const provider = registry.serviceProvider(key);
      if (provider) out.push({ key, provider });
    }
    return out;
  }

  /**
   * Opens each service in turn; the first failure stops there and is thrown, naming the key
   * (what was opened before it stays recorded, for {@link close}).
   *
   * @example
   * ```ts
   * await services.open(services.pending(specs, registry));
   * ```
   */
  async open(providers: PendingService[]): Promise<void> {
    for (const { key, provider } of providers) {
      let service: unknown;
      try {
        service = await provider.open();
      } catch (e) {
        throw new TributaryError('STATE', `cannot open service '${key}': ${errorMessage(e)}`, { cause: e });
      }
      this.opened.push({ key, provider, service });
      this.map.set(key, service);
    }
  }

  /**
   * Closes what {@link open} opened, once, in reverse order; failures are logged, not thrown,
   * so that one bad close cannot keep a stopped network's report from its caller.
   *
   * @example
   * ```ts
   * await services.close(); // again: the same promise
   * ```
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const { key, provider, service } of this.opened.splice(0).reverse()) {
        try {
          await provider.close?.(service);
        } catch (e) {
          this.logger.error(`closing service '${key}' failed: ${errorMessage(e)}`);
        }
      }
    })();
    return this.closing;
  }
}
