import type { BatchOp, KeyValueStore, Versioned } from './types';

interface Entry {
  value: unknown;
  version: number;
  expiresAt?: number;
}

/**
 * A {@link KeyValueStore} in process memory (`memory:`): for tests and state that need not
 * survive a restart. Values are copied through JSON on the way in, as a real store would.
 *
 * @example
 * ```ts
 * const kv = memoryStore();
 * await kv.compareAndSet('k', 0, { n: 1 }); // true: the key was absent
 * await kv.compareAndSet('k', 0, { n: 2 }); // false: it is at version 1 now
 * ```
 */
export function memoryStore(options: { now?: () => number } = {}): KeyValueStore {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const e = entries.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return e;
  };
  const write = (key: string, value: unknown, ttlMs?: number): void => {
    const version = (live(key)?.version ?? 0) + 1;
    const copy = value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
    entries.set(key, { value: copy, version, expiresAt: ttlMs === undefined ? undefined : now() + ttlMs });
  };
  const copyOut = <T>(e: Entry): Versioned<T> => ({ value: structuredClone(e.value) as T, version: e.version });
  return {
    url: 'memory:',
    get: <T>(key: string) => Promise.resolve(((e) => (e ? copyOut<T>(e) : undefined))(live(key))),
    put(key, value, opts) {
      write(key, value, opts?.ttlMs);
      return Promise.resolve();
    },
    compareAndSet(key, expectedVersion, value, opts) {
      if ((live(key)?.version ?? 0) !== expectedVersion) return Promise.resolve(false);
      write(key, value, opts?.ttlMs);
      return Promise.resolve(true);
    },
    delete(key) {
      entries.delete(key);
      return Promise.resolve();
    },
    async *list<T>(prefix: string): AsyncIterable<[string, Versioned<T>]> {
      const keys = [...entries.keys()].filter((k) => k.startsWith(prefix)).sort();
      for (const k of keys) {
        const e = live(k);
        if (e) yield [k, copyOut<T>(e)];
      }
    },
    batch(ops: BatchOp[]) {
      for (const o of ops) if (o.op === 'check' && (live(o.key)?.version ?? 0) !== o.version) return Promise.resolve(false);
      for (const o of ops) {
        if (o.op === 'put') write(o.key, o.value, o.ttlMs);
        else if (o.op === 'delete') entries.delete(o.key);
      }
      return Promise.resolve(true);
    },
    close() {
      entries.clear();
      return Promise.resolve();
    },
  };
}
