// Script catalogs (issue 17, docs/deploy.md): what a group runs, as it changes. `agent` watches
// the group's deployed-scripts bucket; `run --group` and `run --watch` watch one local file.
import { readFileSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import type { NatsConnection } from 'nats';
import { TributaryError, errorMessage } from '../errors';
import { checkReplicas } from './buckets';
import { checkScriptName, parseScript, scriptsKv, type ScriptsBucketOptions } from './deploy';
import type { DeployedScript, ScriptCatalog, ScriptFormat } from './types';

/** Options of {@link kvCatalog}: `replicas` as for `scriptsKv` (the catalog creates a missing bucket). */
export interface KvCatalogOptions extends ScriptsBucketOptions {
  /** Called for a value in the bucket that is not a deployed script, or a watch that failed. */
  onProblem?(message: string): void;
}

/**
 * The scripts deployed to a group (the bucket `scriptsBucket(group)`), watched: each subscriber
 * gets the whole list once the bucket was read, then again after every deploy and undeploy.
 * A missing bucket is created (with `replicas` copies); a `replicas` that the existing bucket
 * does not have is reported through `onProblem`.
 *
 * @example
 * ```ts
 * const catalog = kvCatalog(nc, 'bets', { replicas: 3 });
 * const off = catalog.subscribe((scripts) => console.log(scripts.map((s) => `${s.name}@${s.version}`)));
 * ```
 */
export function kvCatalog(nats: NatsConnection, group: string, options: KvCatalogOptions = {}): ScriptCatalog {
  if (options.replicas !== undefined) checkReplicas(options.replicas, "kvCatalog: option 'replicas'");
  const stops = new Set<() => void>();
  const problem = (m: string) => options.onProblem?.(`group '${group}': ${m}`);
  return {
    subscribe(onChange) {
      let closed = false;
      let current: { stop(): void } | undefined;
      // Each watch (the first, and one after every reconnect) counts as a generation; a
      // superseded one stops feeding the list.
      let generation = 0;
      const emit = (scripts: Map<string, DeployedScript>) => onChange([...scripts.values()].sort((a, b) => a.name.localeCompare(b.name)));
      // A server that restarts forgets the watch's ephemeral consumer and the client's watch
      // then stays silent until its missed idle heartbeats reset it, about 5 s later (seen with
      // nats-server 2.9): after every reconnect a new watch replays the bucket at once and its
      // list replaces the old one.
      const open = async () => {
        const gen = ++generation;
        const kv = await scriptsKv(nats, group, options.replicas !== undefined ? { replicas: options.replicas } : {});
        const scripts = new Map<string, DeployedScript>();
        let initialized = false;
        const entries = await kv.watch({
          initializedFn: () => {
            initialized = true;
            if (!closed && gen === generation) emit(scripts);
          },
        });
        if (closed || gen !== generation) return entries.stop();
        current?.stop();
        current = entries;
        for await (const e of entries) {
          if (closed || gen !== generation) break;
          if (e.operation === 'PUT') {
            const problems: string[] = [];
            const s = parseScript(e.string(), e.key, problems);
            if (s) scripts.set(e.key, s);
            else problems.forEach(problem);
          } else scripts.delete(e.key);
          if (initialized) emit(scripts);
        }
      };
      const watch = () =>
        void open().catch((e: unknown) => {
          if (!closed) problem(`watching ${errorMessage(e)}`);
        });
      const events = nats.status() as AsyncIterable<{ type: string }> & { stop?: () => void };
      void (async () => {
        for await (const s of events) {
          if (closed) break;
          if (s.type === 'reconnect') watch();
        }
      })().catch(() => undefined);
      const stop = () => {
        closed = true;
        current?.stop();
        events.stop?.();
        stops.delete(stop);
      };
      stops.add(stop);
      watch();
      return stop;
    },
    close: async () => {
      for (const stop of [...stops]) stop();
    },
  };
}

/** Options of {@link fileCatalog}. */
export interface FileCatalogOptions {
  /** Re-read the file when it changes (`run --watch`); default false: it is read once. */
  watch?: boolean;
  /** The script's name; default the file name without its extension. */
  name?: string;
  /** How the file is read; default by extension (`.lua`, `.yaml`/`.yml`, `.json`). */
  format?: ScriptFormat;
  /** Run as this many partitions (`run --group --partitions N`). */
  partitions?: number;
  /** How long the file must be quiet before it is read again; default 100 ms. */
  debounceMs?: number;
  /** Called when the file cannot be read (the scripts seen last stay current). */
  onProblem?(message: string): void;
}

/**
 * How a script file is read, from its extension: `.lua` Lua, `.yaml`/`.yml` YAML, `.json` JSON
 * (an agglo config is recognised by its content either way).
 *
 * @example
 * ```ts
 * scriptFormatOf('net.yml'); // 'yaml'
 * ```
 */
export function scriptFormatOf(file: string): ScriptFormat {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  return 'lua';
}

/**
 * One script from a local file, as a catalog: version 1 when first read, and with `watch` one
 * more each time the file's content changes (checked after the file was quiet for
 * `debounceMs`; editors that replace the file are followed). A file that cannot be read is
 * reported through `onProblem` and the last version read stays current. Whether the new version
 * builds is for whoever runs it to find out (the old one keeps running if it does not).
 *
 * @example
 * ```ts
 * const catalog = fileCatalog('net.lua', { watch: true, onProblem: (m) => console.error(m) });
 * catalog.subscribe(([script]) => console.log(`version ${script?.version}`));
 * ```
 */
export function fileCatalog(file: string, options: FileCatalogOptions = {}): ScriptCatalog {
  const name =
    options.name ??
    path
      .basename(file)
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9_-]/g, '_');
  checkScriptName(name);
  const format = options.format ?? scriptFormatOf(file);
  const subscribers = new Set<(scripts: readonly DeployedScript[]) => void>();
  let current: DeployedScript | undefined;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const problem = (m: string) => options.onProblem?.(m);
  const read = (): boolean => {
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch (e) {
      problem(`cannot read ${file}: ${errorMessage(e)}${current ? `; version ${current.version} stays` : ''}`);
      return false;
    }
    if (current && current.source === source) return false;
    current = {
      name,
      version: (current?.version ?? 0) + 1,
      format,
      source,
      ...(options.partitions !== undefined ? { partitions: options.partitions } : {}),
      deployedAt: Date.now(),
    };
    return true;
  };
  const emitAll = () => {
    for (const s of subscribers) s(current ? [current] : []);
  };
  const startWatching = () => {
    if (!options.watch || watcher) return;
    const base = path.basename(file);
    try {
      // The directory, not the file: an editor that writes a new file and renames it over the
      // old one would leave a watch on the file looking at the old inode.
      watcher = fsWatch(path.dirname(path.resolve(file)), (_event, changed) => {
        if (changed !== null && changed.toString() !== base) return;
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          if (read()) emitAll();
        }, options.debounceMs ?? 100);
      });
    } catch (e) {
      throw new TributaryError('SCRIPT', `cannot watch ${file}: ${errorMessage(e)}`, { cause: e });
    }
  };
  return {
    subscribe(onChange) {
      if (current === undefined) read();
      startWatching();
      subscribers.add(onChange);
      onChange(current ? [current] : []);
      return () => void subscribers.delete(onChange);
    },
    close: async () => {
      subscribers.clear();
      if (timer) clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}
