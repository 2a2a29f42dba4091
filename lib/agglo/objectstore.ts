// Object stores for agglo's tee (and entwine, later): a local directory, or memory. agglo's
// connection strings `mem:<instance>` name an in-memory store shared within the process;
// `file:<dir>` or a plain path name a directory, one file per object key.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TributaryError } from '../errors';

/** Bytes stored by key. */
export interface ObjectStore {
  /** What it is, safe to show: `mem:events`, `file:/var/agglo/objects`. */
  readonly connectionString: string;
  put(key: string, data: Uint8Array): Promise<void>;
  /** The object, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix?: string): Promise<string[]>;
  delete(key: string): Promise<void>;
}

const memoryStores = new Map<string, Map<string, Uint8Array>>();

/**
 * The in-memory object store named `instance` (created on first use, shared within the process).
 *
 * @example
 * ```ts
 * const store = memoryObjectStore('events');
 * await store.put('k', Buffer.from('{}'));
 * ```
 */
export function memoryObjectStore(instance: string): ObjectStore {
  let objects = memoryStores.get(instance);
  if (!objects) memoryStores.set(instance, (objects = new Map()));
  const map = objects;
  return {
    connectionString: `mem:${instance}`,
    put: async (key, data) => void map.set(key, Uint8Array.from(data)),
    get: async (key) => map.get(key),
    list: async (prefix = '') => [...map.keys()].filter((k) => k.startsWith(prefix)).sort(),
    delete: async (key) => void map.delete(key),
  };
}

function checkKey(key: string): void {
  if (!key || key.includes('/') || key.includes('\\') || key === '.' || key === '..' || key.includes('\0')) {
    throw new Error(`object key ${JSON.stringify(key)} is not a plain file name`);
  }
}

/**
 * An object store in a local directory (created if missing): each object is the file
 * `<dir>/<key>`, written to a temporary name and renamed, so a reader never sees half an object.
 *
 * @example
 * ```ts
 * const store = directoryObjectStore('/tmp/objects');
 * await store.put('a1.json', Buffer.from('{"a":1}'));
 * ```
 */
export function directoryObjectStore(dir: string): ObjectStore {
  const root = path.resolve(dir);
  let ready: Promise<unknown> | undefined;
  const ensure = () => (ready ??= fs.mkdir(root, { recursive: true }));
  return {
    connectionString: `file:${root}`,
    put: async (key, data) => {
      checkKey(key);
      await ensure();
      const tmp = path.join(root, `.${key}.${process.pid}.tmp`);
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, path.join(root, key));
    },
    get: async (key) => {
      checkKey(key);
      try {
        return await fs.readFile(path.join(root, key));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    list: async (prefix = '') => {
      let names: string[];
      try {
        names = await fs.readdir(root);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw e;
      }
      return names.filter((n) => !n.startsWith('.') && n.startsWith(prefix)).sort();
    },
    delete: async (key) => {
      checkKey(key);
      await fs.rm(path.join(root, key), { force: true });
    },
  };
}

/**
 * Opens an object store from an agglo-style connection string: `mem:<instance>` (memory),
 * `file:<dir>`, `dir:<dir>` or a path (a local directory). agglo's `s3:` and `gcs:` are refused
 * with how to point them at a local directory instead.
 *
 * @example
 * ```ts
 * openObjectStore('mem:events');
 * openObjectStore('/var/agglo/objects');
 * ```
 */
export function openObjectStore(connectionString: string, what = 'object store'): ObjectStore {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(connectionString);
  if (m && m[1].length > 1) {
    const [, scheme, rest] = m;
    if (scheme === 'mem') return memoryObjectStore(rest.replace(/^instanceName=/, ''));
    if (scheme === 'file' || scheme === 'dir') {
      if (!rest) throw new TributaryError('BAD_OPTION', `${what}: '${connectionString}' needs a directory`);
      return directoryObjectStore(rest.replace(/^\/\/(?=\/)/, ''));
    }
    throw new TributaryError(
      'BAD_OPTION',
      `${what}: '${scheme}:' object stores are not supported here; use mem:<name> or a local directory (file:<dir>)`,
    );
  }
  if (!connectionString) throw new TributaryError('BAD_OPTION', `${what}: the connection string is empty`);
  return directoryObjectStore(connectionString);
}
