import { createDelivery, forkDelivery, type Delivery } from '../delivery';
import { createEvent, withDelivery, type Event } from '../event';
import { TributaryError } from '../errors';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import type { NodeContext, StateHandle } from '../nodes/types';
import { handle, operate } from '../operators/operate';
import type { Checkpointable } from './types';

/** What a `stateful` function gets besides the state and the payload. */
export interface StatefulInfo {
  /** The key the state belongs to. */
  key: string;
  /** The event's time (ms). */
  time: number;
}

/** What a `stateful` function returns: the key's new state (undefined/null removes it) and what to send on. */
export interface StatefulResult<S = unknown> {
  state?: S | null;
  /** A payload to send on (undefined: nothing). */
  emit?: unknown;
}

/** The `fn` of a `stateful` node. */
export type StatefulFn<S = any, P = any> = (state: S | undefined, payload: P, info: StatefulInfo) => StatefulResult<S> | undefined;

type KeyOf = (payload: unknown, event: Event) => unknown;

/** One key's state and when it last changed (scheduler time), as checkpointed. */
interface Slot {
  s: unknown;
  t: number;
}

/**
 * Reads a dotted payload path (`customer.id`).
 *
 * @example
 * ```ts
 * pathReader('customer.id')({ customer: { id: 7 } }); // 7
 * ```
 */
export function pathReader(path: string): (payload: unknown) => unknown {
  const parts = path.split('.');
  return (payload) => {
    let v: unknown = payload;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

/**
 * The per-key state of one `stateful` node, in memory, with the changes since the last
 * checkpoint and the outbox of emitted payloads not yet acked downstream.
 */
class KeyedState implements Checkpointable {
  /** Insertion order is last-update order: with a TTL the expired keys are at the front. */
  readonly slots = new Map<string, Slot>();
  private readonly dirty = new Set<string>();
  /** Emitted payloads whose events are not acked yet: replayed after a restart. */
  readonly outbox = new Map<string, unknown>();
  private readonly outDirty = new Set<string>();
  private seq = 0;
  private readonly run = Math.floor(Math.random() * 2 ** 32).toString(36);

  constructor(
    readonly stateName: string,
    private readonly ttl: number | undefined,
    private readonly now: () => number,
  ) {}

  get(key: string): Slot | undefined {
    this.expire();
    return this.slots.get(key);
  }

  set(key: string, value: unknown): void {
    if (value === undefined || value === null) {
      if (this.slots.delete(key)) this.dirty.add(key);
      return;
    }
    // Re-inserting moves the key to the back: the map stays in last-update order.
    if (this.ttl !== undefined) this.slots.delete(key);
    this.slots.set(key, { s: value, t: this.now() });
    this.dirty.add(key);
  }

  /** Drops keys not updated within the TTL. */
  expire(): void {
    if (this.ttl === undefined) return;
    const now = this.now();
    for (const [k, slot] of this.slots) {
      if (now - slot.t < this.ttl) break;
      this.slots.delete(k);
      this.dirty.add(k);
    }
  }

  emitId(): string {
    return `${this.run}.${(++this.seq).toString(36)}`;
  }

  addOut(id: string, payload: unknown): void {
    this.outbox.set(id, payload);
    this.outDirty.add(id);
  }

  removeOut(id: string): void {
    if (this.outbox.delete(id)) this.outDirty.add(id);
  }

  takeChanges(): { put: Array<[string, unknown]>; delete: string[] } {
    this.expire();
    const put: Array<[string, unknown]> = [];
    const del: string[] = [];
    for (const k of this.dirty) {
      const slot = this.slots.get(k);
      if (slot) put.push([`k/${k}`, slot]);
      else del.push(`k/${k}`);
    }
    this.dirty.clear();
    for (const id of this.outDirty) {
      if (this.outbox.has(id)) put.push([`o/${id}`, this.outbox.get(id)]);
      else del.push(`o/${id}`);
    }
    this.outDirty.clear();
    return { put, delete: del };
  }

  restore(entries: Iterable<[string, unknown]>): void {
    for (const [k, v] of entries) {
      if (k.startsWith('k/')) {
        const slot = v as Slot;
        if (slot && typeof slot === 'object' && 't' in slot) this.slots.set(k.slice(2), slot);
      } else if (k.startsWith('o/')) this.outbox.set(k.slice(2), v);
    }
    if (this.ttl !== undefined) {
      // Last-update order, so that expiry finds the oldest first.
      const sorted = [...this.slots].sort((a, b) => a[1].t - b[1].t);
      this.slots.clear();
      for (const [k, s] of sorted) this.slots.set(k, s);
    }
    this.expire();
  }
}

/** The options of {@link stateful}, declared once: types, validation, defaults and docs come from here. */
export const statefulOptions = {
  key: opt.any<string | ((payload: any, event: Event) => unknown)>(
    "payload path of the key ('customer.id') or payload => key; default the event's key (meta.key), else one state for all",
  ),
  fn: opt
    .fn<StatefulFn>('(state, payload, { key, time }) => { state, emit }: the key’s new state (nil removes it) and a payload to send on')
    .require(),
  ttl: opt.duration('remove a key’s state when it was not updated for this long (the network’s clock)', { min: 1 }),
  stateName: opt.string('name of the state in the checkpoint store (default the node name)'),
};

/**
 * Pipeline keeping state per key: for each event, `fn(state, payload, { key, time })` returns
 * the key's new state and, optionally, a payload to `emit`. State lives in memory; with the
 * network's `state` option it is restored before the first event and checkpointed to the store,
 * and each input event is acked only once a checkpoint includes its effect. A redelivered
 * event the state already includes (same source position) is not applied twice. Emitted
 * payloads are kept in the checkpoint until their event is acked downstream, and sent again
 * after a restart: sinks see them at least once. Error events pass through untouched; a throw
 * of `fn` becomes an error event.
 *
 * @example
 * ```ts
 * net.add('sums', stateful({ key: 'customer', fn: (sum = 0, bet) => ({ state: sum + bet.stake, emit: { customer: bet.customer, sum: sum + bet.stake } }) }));
 * ```
 */
export const stateful = defineNode({
  name: 'stateful',
  role: 'pipeline',
  summary: 'Keeps state per key: fn(state, payload) → { state, emit }, checkpointed with the network’s state store.',
  options: statefulOptions,
  positional: ['key', 'fn'],
  example: "net.add('sums', stateful({ key: 'customer', fn: (sum = 0, bet) => ({ state: sum + bet.stake }) }));",
  luaExample:
    'tb.create_stateful("sums", "customer", function(sum, bet) local s = (sum or 0) + bet.stake; return { state = s, emit = { customer = bet.customer, sum = s } } end)',
  build: (o) => {
    let keyOf: KeyOf;
    if (o.key === undefined) keyOf = (_p, e) => e.meta.key ?? '';
    else if (typeof o.key === 'string') {
      if (o.key.trim() === '') throw new TributaryError('BAD_OPTION', "node kind 'stateful': option 'key' must not be empty");
      const read = pathReader(o.key);
      keyOf = (p) => read(p);
    } else if (typeof o.key === 'function') keyOf = o.key as KeyOf;
    else
      throw new TributaryError(
        'BAD_OPTION',
        `node kind 'stateful': option 'key' must be a payload path or a function, got ${typeof o.key}`,
      );
    const fn = o.fn;
    return {
      role: 'pipeline',
      kind: 'stateful',
      create: (ctx) => {
        const state = new KeyedState(o.stateName ?? ctx.name, o.ttl, () => ctx.scheduler.now());
        const h = register(ctx, state);
        return operate<Event, Event>((out, source) => {
          /** Sends an emitted payload; its ack removes it from the outbox and settles `part` (the input's share). */
          const emit = (payload: unknown, id: string, from?: Event, part?: Delivery) => {
            const delivery = createDelivery((s) => {
              if (s.acked) {
                state.removeOut(id);
                part?.ack();
              } else part?.nack(s.reason);
            });
            const init = from
              ? { time: from.meta.time, key: from.meta.key, headers: from.meta.headers as Record<string, string> | undefined, delivery }
              : { time: ctx.scheduler.now(), delivery };
            out.next(createEvent(payload, init));
          };
          // Payloads emitted before a restart and never acked go out first.
          for (const [id, payload] of [...state.outbox]) emit(payload, id);
          source.subscribe(
            handle(out, {
              next(e) {
                if (e.error) {
                  h.skipped(e);
                  return out.next(e);
                }
                if (!h.admit(e)) {
                  // Its effect is in the state already (a redelivery after a restart).
                  ctx.stats.dropped++;
                  return h.settleAfterCheckpoint(e);
                }
                let key: string;
                let result: StatefulResult | undefined;
                try {
                  const k = keyOf(e.payload, e);
                  if (k === undefined || k === null || (typeof k === 'object' && !Array.isArray(k)))
                    throw new Error(
                      `no key: ${typeof o.key === 'string' ? `payload path '${o.key}'` : 'the key function'} gave ${k === null ? 'null' : typeof k}`,
                    );
                  key = typeof k === 'string' ? k : JSON.stringify(k);
                  const slot = state.get(key);
                  result = fn(slot?.s, e.payload, { key, time: e.meta.time });
                  if (result !== undefined && (result === null || typeof result !== 'object')) {
                    throw new Error(`fn must return { state, emit } (or nothing), got ${result === null ? 'null' : typeof result}`);
                  }
                } catch (err) {
                  h.skipped(e);
                  return out.next(ctx.fail(e, err));
                }
                if (result === undefined) return h.settleAfterCheckpoint(e);
                state.set(key, result.state);
                if (result.emit === undefined || result.emit === null) return h.settleAfterCheckpoint(e);
                const id = state.emitId();
                state.addOut(id, result.emit);
                // The input is acked once the checkpoint holds the state and the outbox entry,
                // and the emitted event was acked downstream.
                const [mine, theirs] = e.delivery ? forkDelivery(e.delivery, 2) : [undefined, undefined];
                h.settleAfterCheckpoint(mine ? withDelivery(e, mine) : e);
                emit(result.emit, id, e, theirs);
              },
            }),
          );
        });
      },
    };
  },
});

function register(ctx: NodeContext, state: Checkpointable): StateHandle {
  if (ctx.registerState) return ctx.registerState(state);
  state.restore([]);
  return { settleAfterCheckpoint: (e) => ctx.ack(e), admit: () => true, skipped: () => undefined };
}
