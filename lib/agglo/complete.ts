import { Observable, Subscription } from 'rxjs';
import { withPayload, type Event } from '../event';
import { errorMessage, TributaryError } from '../errors';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { functionStage } from '../nodes/stage';
import type { NodeContext } from '../nodes/types';
import type { KeyValueStore, Versioned } from '../state/types';
import { readStateProto, stateCondition } from './state-options';
import {
  AGGLO_STATE_SERVICE,
  casLoop,
  isJsonMap,
  isKeyValueStore,
  leafAt,
  partitionOf,
  releasingAtEnd,
  storeHandle,
  type JsonMap,
} from './stateful';

/** agglo's `Completion` message: the fields joined on, and how long a join may take (0: forever). */
export interface CompletionSpec {
  joinKeys: string[];
  timeoutMs: number;
}

/** The stored state of one join (one join value), as agglo keeps it. */
export interface CompletionState {
  /** The joined value. */
  value: string | number | boolean;
  /** Each join key, true once an event carrying it arrived. */
  resolved: Record<string, boolean>;
  /** Scheduler time (ms) after which the join has timed out; -1 without a timeout. */
  deadline: number;
}

/** What `complete` writes to `internal:completion:<name>`. */
export type CompletionStatus = 'triggered' | 'complete' | 'timedout';

/**
 * The first join key present in the event (as a leaf of the flattened event) and its value, as
 * agglo matches: keys are tried in their configured order.
 *
 * @example
 * ```ts
 * matchJoinKey(['head', 'cicdVcsHash'], { cicdVcsHash: 'deadbeef' }); // ['cicdVcsHash', 'deadbeef']
 * ```
 */
export function matchJoinKey(joinKeys: readonly string[], payload: JsonMap): [string, unknown] | undefined {
  for (const k of joinKeys) {
    const v = leafAt(payload, k);
    if (v !== undefined) return [k, v];
  }
  return undefined;
}

/**
 * A join value as it appears in the state key, formatted as agglo formats it (strings and
 * booleans as they are, integers without decimals, other numbers with six); other values cannot
 * be joined on (TypeError).
 *
 * @example
 * ```ts
 * joinValueKey(42);  // '42'
 * joinValueKey(1.5); // '1.500000'
 * ```
 */
export function joinValueKey(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isFinite(v)) return Number.isInteger(v) ? String(v) : v.toFixed(6);
  throw new TypeError(`a join value must be a string, number or boolean, got ${v === null ? 'null' : typeof v}`);
}

/** The options of {@link complete}: agglo's `Completer` message, plus where the state lives. */
export const completeOptions = {
  name: opt.string("the process name (agglo's Completer.name; default the node name): it names the state keys and the output fields"),
  condition: opt.object('agglo Condition: events for which it is false pass through untouched (agglo ignores it; Tributary honours it)'),
  stateStore: opt
    .any<string | KeyValueStore>(
      'state store: a URL (memory:, mem:, sqlite:…, mysql://…, postgres://…, redis://…), shared by every node naming it, or a KeyValueStore',
    )
    .withDefault('memory:'),
  completion: opt.object('agglo Completion: { joinKeys, timeoutMs } (timeoutMs 0: a join never times out)').require(),
};

interface Outcome {
  status: CompletionStatus;
  state?: CompletionState;
  /** A new join with a deadline: its clean-up timer is due. */
  started?: CompletionState;
}

/**
 * agglo's completer as a node kind: a streaming join of events on the values of `joinKeys`.
 * Each event carrying one of the keys (the first present, in order) marks that key resolved for
 * its value; the event goes on with `internal:completion:<name>` = `triggered` (the join is
 * still partial), `complete` (every key arrived; the join's state is added as
 * `internal:completion:state:<name>` and deleted from the store) or `timedout` (the join's
 * `timeoutMs` had passed when the event came). A timed-out join's state stays for one more
 * `timeoutMs`, so late events are reported `timedout`, and is then deleted by a timer on the
 * network's scheduler (and expires in the store, for a process that died meanwhile). Events
 * without a join key, or failing the `condition`, pass through untouched. Updates are
 * compare-and-set batches: nodes in several processes may share a store.
 *
 * @example
 * ```ts
 * net.add('join', complete({ completion: { joinKeys: ['head', 'cicdVcsHash'], timeoutMs: 3600000 }, stateStore: 'redis://127.0.0.1:6379' }));
 * ```
 */
export const complete = defineNode({
  name: 'complete',
  role: 'pipeline',
  summary: "agglo's completer: a streaming join on key values with a timeout, marking events triggered/complete/timedout.",
  options: completeOptions,
  positional: [],
  services: [AGGLO_STATE_SERVICE],
  example: "net.add('join', complete({ completion: { joinKeys: ['head', 'cicdVcsHash'], timeoutMs: 60000 } }));",
  luaExample: 'tb.create_complete("join", { completion = { joinKeys = { "head", "cicdVcsHash" }, timeoutMs = 60000 } })',
  build: (o) => {
    const where = "node kind 'complete'";
    const spec = readStateProto('completion', o.completion, where) as unknown as CompletionSpec;
    if (spec.joinKeys.length === 0)
      throw new TributaryError('BAD_OPTION', `${where}: option 'completion.joinKeys' must name at least one field`);
    if (spec.timeoutMs < 0)
      throw new TributaryError('BAD_OPTION', `${where}: option 'completion.timeoutMs' must be 0 (no timeout) or more`);
    const holds = stateCondition(o.condition, where);
    if (typeof o.stateStore !== 'string' && !isKeyValueStore(o.stateStore)) {
      throw new TributaryError('BAD_OPTION', `${where}: option 'stateStore' must be a store URL or a KeyValueStore`);
    }
    const stateOption = o.stateStore;
    const timeout = spec.timeoutMs;
    return {
      role: 'pipeline',
      kind: 'complete',
      services: [AGGLO_STATE_SERVICE],
      create: (ctx) => {
        const handle = storeHandle(ctx, stateOption);
        const proc = o.name ?? ctx.name;
        const timers = new Subscription();
        const join = async (payload: unknown): Promise<unknown> => {
          if (!isJsonMap(payload))
            throw new TypeError(`complete needs a JSON object payload, got ${Array.isArray(payload) ? 'a list' : typeof payload}`);
          if (!holds(payload)) return payload;
          const match = matchJoinKey(spec.joinKeys, payload);
          if (!match) return payload;
          const [joinKey, value] = match;
          const key = `${partitionOf(payload)}:${proc}:c:${joinValueKey(value)}`;
          const store = await handle.store();
          const now = ctx.scheduler.now();
          const outcome = await casLoop<Outcome>(
            store,
            async () => {
              const cur = await store.get<CompletionState>(key);
              let st = cur && isJsonMap(cur.value) ? cur.value : undefined;
              // Past its late window and not cleaned (the process that owned the timer died): gone.
              if (st && st.deadline > 0 && now > st.deadline + timeout) st = undefined;
              if (st && st.deadline > 0 && now > st.deadline) return { result: { status: 'timedout' } };
              const fresh = !st;
              const next: CompletionState = st
                ? structuredClone(st)
                : {
                    value: value as CompletionState['value'],
                    resolved: Object.fromEntries(spec.joinKeys.map((k) => [k, false])),
                    deadline: timeout > 0 ? now + timeout : -1,
                  };
              next.resolved[joinKey] = true;
              const check = { op: 'check' as const, key, version: cur?.version ?? 0 };
              if (Object.values(next.resolved).every(Boolean)) {
                return { ops: [check, { op: 'delete', key }], result: { status: 'complete', state: next } };
              }
              const ttlMs = next.deadline > 0 ? Math.max(1, next.deadline + timeout - now) : undefined;
              return {
                ops: [check, { op: 'put', key, value: next, ...(ttlMs ? { ttlMs } : {}) }],
                result: { status: 'triggered', started: fresh && next.deadline > 0 ? next : undefined },
              };
            },
            `complete '${ctx.name}' updating '${key}'`,
            ctx.scheduler,
          );
          if (outcome.started) cleanUpLater(ctx, timers, store, key, outcome.started.deadline, timeout);
          const out: JsonMap = { ...payload, [`internal:completion:${proc}`]: outcome.status };
          if (outcome.state) out[`internal:completion:state:${proc}`] = outcome.state;
          return out;
        };
        const stage = functionStage(
          ctx,
          join,
          1,
          (e) => e.payload,
          (e, r, emit) => emit(r === e.payload ? e : withPayload(e, r)),
        );
        return (source) => {
          const op = releasingAtEnd(stage, handle);
          return new Observable<Event>((subscriber) => {
            const sub = op(source).subscribe({
              next: (e) => subscriber.next(e),
              error: (err: unknown) => {
                timers.unsubscribe();
                subscriber.error(err);
              },
              complete: () => {
                // The store's expiry covers joins still open: timers do not outlive the node.
                timers.unsubscribe();
                subscriber.complete();
              },
            });
            return () => {
              timers.unsubscribe();
              sub.unsubscribe();
            };
          });
        };
      },
    };
  },
});

/**
 * Deletes a timed-out join's state when its late window (one more timeout after the deadline)
 * ends, unless the join completed or was replaced meanwhile (the deadline identifies it).
 */
function cleanUpLater(ctx: NodeContext, timers: Subscription, store: KeyValueStore, key: string, deadline: number, timeout: number): void {
  const due = Math.max(0, deadline + timeout - ctx.scheduler.now());
  const t = ctx.scheduler.schedule(() => {
    timers.remove(t);
    void store
      .get<CompletionState>(key)
      .then((cur: Versioned<CompletionState> | undefined) =>
        cur && isJsonMap(cur.value) && cur.value.deadline === deadline
          ? store.batch([
              { op: 'check', key, version: cur.version },
              { op: 'delete', key },
            ])
          : true,
      )
      .catch((err: unknown) =>
        ctx.logger.warn(
          `node '${ctx.name}': cleaning up timed-out join '${key}': ${errorMessage(err)} (the store's expiry will remove it)`,
        ),
      );
  }, due);
  timers.add(t);
}
