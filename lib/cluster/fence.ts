// Fencing tokens for partitioned group runs (docs/scale-out.md, "Leases and fencing"). The owner
// of a partition writes its lease epoch to the partition's fence key in the state store before
// it restores the partition's state; every checkpoint batch then checks the key is still at the
// version that write produced (`state.fence` of a Network). A stale owner — one whose lease
// expired while it was paused, cut off, or slow — fails its next checkpoint as a whole.
import { TributaryError, errorMessage } from '../errors';
import type { KeyValueStore } from '../state/types';

/** The value stored under a fence key. */
export interface FenceValue {
  readonly epoch: number;
}

/**
 * The fence key of a partition whose state lives under `namespace` (the checkpoint namespace):
 * `<namespace>#fence`. Checkpoint restores ignore it.
 *
 * @example
 * ```ts
 * fenceKey('bets/liability/p3/'); // 'bets/liability/p3/#fence'
 * ```
 */
export function fenceKey(namespace: string): string {
  return `${namespace}#fence`;
}

/**
 * Claims the fence `key` for the lease `epoch`: reads it; if it holds a newer epoch, throws a
 * `TributaryError` (code `STATE`) naming the key (a newer owner took the partition); otherwise
 * compare-and-sets `{ epoch }` (re-reading when another claim raced it) and returns the version
 * now stored, to pass as `state.fence.version`.
 *
 * @example
 * ```ts
 * const { version } = await claimFence(store, fenceKey(ns), lease.epoch);
 * new Network({ state: { store, namespace: ns, fence: { key: fenceKey(ns), version, onFenced: () => void net.stop() } } });
 * ```
 */
export async function claimFence(store: KeyValueStore, key: string, epoch: number): Promise<{ version: number }> {
  if (!Number.isSafeInteger(epoch) || epoch < 1) {
    throw new TributaryError('BAD_OPTION', `fence '${key}': the epoch must be a whole number of at least 1, got ${String(epoch)}`);
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    let cur;
    try {
      cur = await store.get<FenceValue>(key);
    } catch (e) {
      throw new TributaryError('STATE', `fence '${key}': cannot read it from ${store.url}: ${errorMessage(e)}`, { cause: e });
    }
    const held = cur?.value && typeof cur.value.epoch === 'number' ? cur.value.epoch : 0;
    if (held > epoch) {
      throw new TributaryError(
        'STATE',
        `partition fence '${key}' is held at epoch ${held}, newer than this owner's ${epoch}: another member owns the partition now`,
      );
    }
    const version = cur?.version ?? 0;
    let ok: boolean;
    try {
      ok = await store.compareAndSet(key, version, { epoch } satisfies FenceValue);
    } catch (e) {
      throw new TributaryError('STATE', `fence '${key}': cannot write it to ${store.url}: ${errorMessage(e)}`, { cause: e });
    }
    if (ok) return { version: version + 1 };
  }
  throw new TributaryError('STATE', `partition fence '${key}': 20 claims in a row lost a race; giving up`);
}
