// What agglo's two stateful processes (aggregate, complete) share: the state stores a network
// opens once per URL, where an event's stable identity comes from, dot-path lookups over the
// flattened event, and the compare-and-set retry loop. No locks: every update is a batch that
// checks the versions it read.
import { firstValueFrom, Observable, timer, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Event } from '../event';
import type { NodeContext } from '../nodes/types';
import { memoryStore } from '../state/memory';
import { openStateStore } from '../state/open';
import { POSITION_HEADER, type KeyValueStore } from '../state/types';

/** The service key under which a network keeps its open agglo state stores. */
export const AGGLO_STATE_SERVICE = 'agglo.state';

/** Opens a store from a URL (`sqlite:…`, `mysql://…`, `postgres://…`, `redis://…`). */
export type StoreOpener = (url: string) => Promise<KeyValueStore>;

/**
 * The state stores of one network, one per URL: every `aggregate` and `complete` node naming the
 * same URL shares one store (so `memory:agg` is one map for all of them, as agglo's `mem:` KV
 * store is), and a network closes them all after its drain. A store given as an object is the
 * caller's to close. `mem:` (agglo's in-memory connection string) means `memory:`.
 *
 * @example
 * ```ts
 * const stores = new StateStores();
 * const kv = await stores.open('memory:sums');
 * (await stores.open('mem:sums')) === kv; // true
 * await stores.closeAll();
 * ```
 */
export class StateStores {
  private readonly open_ = new Map<string, Promise<KeyValueStore>>();
  constructor(private readonly opener: StoreOpener = openStateStore) {}

  /** The store for `url`, opened on first use. */
  open(url: string): Promise<KeyValueStore> {
    const key = normaliseStoreUrl(url);
    let p = this.open_.get(key);
    if (!p) {
      p = key.startsWith('memory:') ? Promise.resolve(memoryStore()) : this.opener(key);
      // A failed open is not cached: the next event tries again (the server may be back).
      p.catch(() => this.open_.delete(key));
      this.open_.set(key, p);
    }
    return p;
  }

  /** Closes every store opened here. */
  async closeAll(): Promise<void> {
    const all = [...this.open_.values()];
    this.open_.clear();
    await Promise.all(all.map((p) => p.then((s) => s.close()).catch(() => undefined)));
  }
}

/**
 * A state store URL as the stores know it: agglo's `mem:name` becomes `memory:name`.
 *
 * @example
 * ```ts
 * normaliseStoreUrl('mem:aggregatorState'); // 'memory:aggregatorState'
 * ```
 */
export function normaliseStoreUrl(url: string): string {
  return url.startsWith('mem:') ? `memory:${url.slice(4)}` : url;
}

/**
 * The provider of {@link AGGLO_STATE_SERVICE} for the agglo plugin's `services`.
 *
 * @example
 * ```ts
 * definePlugin({ name: 'agglo', kinds: [aggregate, complete], services: { [AGGLO_STATE_SERVICE]: aggloStateService } });
 * ```
 */
export const aggloStateService = {
  open: (): StateStores => new StateStores(),
  close: (s: StateStores): Promise<void> => s.closeAll(),
};

/** A node's way to its store: resolves it and, at the end, closes what the node opened itself. */
export interface StoreHandle {
  store(): Promise<KeyValueStore>;
  release(): Promise<void>;
}

/**
 * The store a node's `stateStore` option names: an object is used as it is; a URL is opened
 * through the network's {@link StateStores} service, or, outside a network that provides it,
 * by the node itself (and closed when the node finishes).
 *
 * @example
 * ```ts
 * const h = storeHandle(ctx, 'memory:');
 * const kv = await h.store();
 * ```
 */
export function storeHandle(ctx: NodeContext, option: string | KeyValueStore): StoreHandle {
  if (typeof option !== 'string') return { store: () => Promise.resolve(option), release: () => Promise.resolve() };
  let stores: StateStores;
  let own = false;
  try {
    stores = ctx.service<StateStores>(AGGLO_STATE_SERVICE);
  } catch {
    stores = new StateStores();
    own = true;
  }
  return { store: () => stores.open(option), release: () => (own ? stores.closeAll() : Promise.resolve()) };
}

/**
 * The node's operator, completing only after the stores the node opened itself are closed (and
 * closing them when unsubscribed early).
 *
 * @example
 * ```ts
 * return releasingAtEnd(stage, storeHandle(ctx, o.stateStore));
 * ```
 */
export function releasingAtEnd(op: OperatorFunction<Event, Event>, handle: StoreHandle): OperatorFunction<Event, Event> {
  return (source) =>
    new Observable<Event>((subscriber) => {
      const sub = op(source).subscribe({
        next: (e) => subscriber.next(e),
        error: (err: unknown) => void handle.release().finally(() => subscriber.error(err)),
        complete: () => void handle.release().finally(() => subscriber.complete()),
      });
      return () => {
        sub.unsubscribe();
        // Unsubscribed early: close what the node opened (a second release is a no-op).
        void handle.release();
      };
    });
}

/**
 * True for a {@link KeyValueStore}-shaped object (an option given from TypeScript).
 *
 * @example
 * ```ts
 * isKeyValueStore(memoryStore()); // true
 * ```
 */
export function isKeyValueStore(value: unknown): value is KeyValueStore {
  const v = value as KeyValueStore | null;
  return typeof v === 'object' && v !== null && typeof v.get === 'function' && typeof v.batch === 'function';
}

/**
 * An event's identity that survives redelivery, or undefined when it has none: the publisher's
 * `Nats-Msg-Id` header, else the source position a JetStream source stamps
 * (`tributary-position`: stream and sequence), else the Redis stream and entry id, else agglo's
 * `internal:messageID`. An event id made in this process (`meta.id`) is not one: after a restart
 * the same id may name another message, and skipping it would lose an update.
 *
 * @example
 * ```ts
 * messageIdOf(createEvent({ n: 1 }, { headers: { 'Nats-Msg-Id': 'm-7' } })); // 'nats:m-7'
 * messageIdOf(createEvent({ n: 1 }, { headers: { 'tributary-position': 'nats:BETS#42' } })); // 'pos:nats:BETS#42'
 * ```
 */
export function messageIdOf(event: Event): string | undefined {
  const h = event.meta.headers;
  if (h) {
    const nats = h['Nats-Msg-Id'];
    if (nats) return `nats:${nats}`;
    const position = h[POSITION_HEADER];
    if (position) return `pos:${position}`;
    if (h['redis-id'] && h['redis-stream']) return `redis:${h['redis-stream']}:${h['redis-id']}`;
  }
  const p = event.payload as Record<string, unknown> | null;
  const id = p && typeof p === 'object' ? p['internal:messageID'] : undefined;
  return typeof id === 'string' && id !== '' ? `agglo:${id}` : undefined;
}

/** A JSON object (the only payloads agglo's processes work on). */
export type JsonMap = Record<string, unknown>;

/**
 * True for a plain JSON object.
 *
 * @example
 * ```ts
 * isJsonMap({ a: 1 }); // true
 * isJsonMap([1]);      // false
 * ```
 */
export function isJsonMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/**
 * The leaf at a dot path of the event as agglo flattens it (`a.b`, list items by index `a.0`);
 * a key that itself contains dots is found too. Objects and lists are not leaves: undefined.
 *
 * @example
 * ```ts
 * leafAt({ repository: { name: 'agglo' } }, 'repository.name'); // 'agglo'
 * leafAt({ tags: ['x', 'y'] }, 'tags.1');                       // 'y'
 * ```
 */
export function leafAt(value: unknown, path: string): unknown {
  if (!isContainer(value)) return undefined;
  if (Object.prototype.hasOwnProperty.call(value, path)) {
    const v = (value as JsonMap)[path];
    return isContainer(v) ? undefined : v;
  }
  // Try every split point: `a.b.c` may be key `a.b` then `c`, or `a` then `b.c` …
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (!Object.prototype.hasOwnProperty.call(value, head)) continue;
    const found = leafAt((value as JsonMap)[head], path.slice(i + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}

function isContainer(v: unknown): v is JsonMap | unknown[] {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array);
}

/**
 * The partition an event belongs to (agglo's `internal:partitionID`), `default` without one.
 *
 * @example
 * ```ts
 * partitionOf({ 'internal:partitionID': 'c502…' }); // 'c502…'
 * ```
 */
export function partitionOf(payload: JsonMap): string {
  const p = payload['internal:partitionID'];
  return typeof p === 'string' && p !== '' ? p : 'default';
}

/** How often a conflicting compare-and-set is tried again before the event fails. */
export const CAS_ATTEMPTS = 64;

/**
 * Runs one optimistic update until its batch commits: `attempt` reads, computes and returns
 * either a final result (nothing to write) or a batch and the result it stands for. A batch
 * refused because another writer got there first is retried from a fresh read (after a short
 * random pause once conflicts repeat); nothing is ever locked.
 *
 * @example
 * ```ts
 * const total = await casLoop(kv, async () => {
 *   const cur = await kv.get<number>('n');
 *   const next = (cur?.value ?? 0) + 1;
 *   return { ops: [{ op: 'check', key: 'n', version: cur?.version ?? 0 }, { op: 'put', key: 'n', value: next }], result: next };
 * }, 'sum', ctx.scheduler);
 * ```
 */
export async function casLoop<R>(
  store: KeyValueStore,
  attempt: () => Promise<{ ops?: Parameters<KeyValueStore['batch']>[0]; result: R }>,
  what: string,
  scheduler: SchedulerLike,
): Promise<R> {
  for (let i = 0; i < CAS_ATTEMPTS; i++) {
    const { ops, result } = await attempt();
    if (!ops || ops.length === 0) return result;
    if (await store.batch(ops)) return result;
    // Contention: back off a little (random, growing) so two writers stop colliding in lockstep.
    if (i >= 2) await firstValueFrom(timer(Math.random() * Math.min(50, 2 ** (i - 2)), scheduler));
  }
  throw new Error(`${what}: ${CAS_ATTEMPTS} conflicting concurrent updates in a row in ${store.url}; giving up on this event`);
}
