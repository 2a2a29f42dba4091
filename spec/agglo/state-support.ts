// Helpers of the aggregate/complete specs: run a node over events, the stores each spec runs
// against (memory always, SQLite in npm test, Redis/MariaDB when their URLs are set), and a
// store wrapper that can say when its work is done (for VirtualClock) or hold batches back.
import { asyncScheduler, from, lastValueFrom, toArray, type SchedulerLike } from 'rxjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type Event } from '../../lib/event';
import { createNodeContext } from '../../lib/network/context';
import type { Logger, NodeSpec } from '../../lib/nodes/types';
import { memoryStore } from '../../lib/state/memory';
import { openStateStore } from '../../lib/state/open';
import type { BatchOp, KeyValueStore } from '../../lib/state/types';

export const quiet: Logger = { warn: () => undefined, error: () => undefined };

/** Runs a pipeline node over events (or payloads) to completion and returns what it emitted. */
export async function runNode(
  node: NodeSpec,
  input: Array<Event | unknown>,
  name = 'n',
  scheduler: SchedulerLike = asyncScheduler,
): Promise<Event[]> {
  if (node.role !== 'pipeline') throw new Error('a pipeline node');
  const op = node.create(createNodeContext(name, { scheduler, logger: quiet }));
  const events = input.map((x) => (isEv(x) ? x : createEvent(x)));
  return lastValueFrom(op(from(events)).pipe(toArray()));
}

function isEv(x: unknown): x is Event {
  return typeof x === 'object' && x !== null && 'meta' in x && 'payload' in x;
}

/** An event as JetStream would deliver a message published with a message id. */
export function natsEvent(payload: unknown, msgId: string): Event {
  return createEvent(payload, { headers: { 'nats-subject': 's', 'Nats-Msg-Id': msgId } });
}

/** A store that counts its pending calls (idle() for VirtualClock) and can hold batches back. */
export interface TrackedStore extends KeyValueStore {
  idle(): Promise<void>;
  /** While set, batches wait for this promise before running. */
  gate?: Promise<void>;
  batches: number;
}

export function tracked(inner: KeyValueStore): TrackedStore {
  let pending = 0;
  let waiters: Array<() => void> = [];
  const track = <T>(p: Promise<T>): Promise<T> => {
    pending++;
    return p.finally(() => {
      pending--;
      if (pending === 0) {
        const w = waiters;
        waiters = [];
        // Let the caller's continuation run before saying idle.
        setImmediate(() => w.forEach((f) => f()));
      }
    });
  };
  const t: TrackedStore = {
    batches: 0,
    get url() {
      return inner.url;
    },
    get: (k) => track(inner.get(k)),
    put: (k, v, o) => track(inner.put(k, v, o)),
    compareAndSet: (k, e, v, o) => track(inner.compareAndSet(k, e, v, o)),
    delete: (k) => track(inner.delete(k)),
    list: (p) => inner.list(p),
    batch: (ops: BatchOp[]) =>
      track(
        (async () => {
          if (t.gate) await t.gate;
          t.batches++;
          return inner.batch(ops);
        })(),
      ),
    close: () => inner.close(),
    idle: async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((r) => setImmediate(r));
        if (pending > 0) await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
  return t;
}

/** A store delegating to `inner` (class instances too), with some methods replaced. */
export function wrapStore(inner: KeyValueStore, over: Partial<KeyValueStore> = {}): KeyValueStore {
  return {
    get url() {
      return inner.url;
    },
    get: (k) => inner.get(k),
    put: (k, v, o) => inner.put(k, v, o),
    compareAndSet: (k, e, v, o) => inner.compareAndSet(k, e, v, o),
    delete: (k) => inner.delete(k),
    list: (p) => inner.list(p),
    batch: (ops) => inner.batch(ops),
    close: () => inner.close(),
    ...over,
  } as KeyValueStore;
}

/** A store backend a spec runs against. */
export interface Backend {
  name: string;
  open(): Promise<KeyValueStore>;
}

/** Memory and SQLite always; Redis, MariaDB, PostgreSQL when TRIBUTARY_REDIS_URL / _MYSQL_URL / _PG_URL are set. */
export function backends(): Backend[] {
  const list: Backend[] = [
    { name: 'memory', open: () => Promise.resolve(memoryStore()) },
    { name: 'sqlite', open: () => openStateStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'agglo-state-')), 'state.db')}`) },
  ];
  const redis = process.env.TRIBUTARY_REDIS_URL;
  const mysql = process.env.TRIBUTARY_MYSQL_URL;
  if (redis) list.push({ name: 'redis', open: () => openStateStore(redis) });
  const pg = process.env.TRIBUTARY_PG_URL;
  if (mysql) list.push({ name: 'mariadb', open: () => openStateStore(mysql) });
  if (pg) list.push({ name: 'postgres', open: () => openStateStore(pg) });
  return list;
}

/** A key prefix unique to one test, so runs on shared servers never meet. */
export function uniq(label: string): string {
  return `agglo-state-${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes every key under `prefix` (what a spec left on a shared server). */
export async function removeAll(kv: KeyValueStore, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const [k] of kv.list(prefix)) keys.push(k);
  for (const k of keys) await kv.delete(k);
}
