import { withPayload, type Event } from '../event';
import { TributaryError } from '../errors';
import { opt } from '../nodes/options';
import { defineNode } from '../nodes/registry';
import { functionStage } from '../nodes/stage';
import type { BatchOp, KeyValueStore } from '../state/types';
import { stateCondition, readStateProto } from './state-options';
import {
  AGGLO_STATE_SERVICE,
  casLoop,
  isJsonMap,
  isKeyValueStore,
  leafAt,
  messageIdOf,
  partitionOf,
  releasingAtEnd,
  storeHandle,
  type JsonMap,
} from './stateful';

/** agglo's aggregation types (enum `AggregationType` of its pipeline.proto). */
export type AggregationType = 'AggSum' | 'AggMax' | 'AggMin' | 'AggAvg' | 'AggCount' | 'AggDiscreteHistogram';

/** agglo's `Aggregation` message: which field, how, grouped by which fields. */
export interface AggregationSpec {
  /** Dot path of the aggregated field in the flattened event. */
  key: string;
  aggregationType: AggregationType;
  /** Dot paths whose values split the aggregate into groups (`nil` where a field is missing). */
  groupByKeys: string[];
}

/** The stored state of one pipeline's aggregations, as agglo keeps it: nested maps under `values`. */
export interface AggregationState {
  values: JsonMap;
}

/**
 * Where in {@link AggregationState.values} an event's aggregate lives: `<key>:<type>` then the
 * value of each group-by field (`nil` when the event lacks it), as agglo nests it.
 *
 * @example
 * ```ts
 * groupPath({ key: 'amount', aggregationType: 'AggSum', groupByKeys: ['user.name'] }, { user: { name: 'ann' } });
 * // ['amount:AggSum', 'ann']
 * ```
 */
export function groupPath(spec: AggregationSpec, payload: JsonMap): string[] {
  const path = [`${spec.key}:${spec.aggregationType}`];
  for (const g of spec.groupByKeys) {
    const v = leafAt(payload, g);
    path.push(v === undefined || v === null ? 'nil' : typeof v === 'string' ? v : JSON.stringify(v));
  }
  return path;
}

function show(v: unknown): string {
  return v === null ? 'null' : `${typeof v} ${JSON.stringify(v)}`;
}

/** The next value of one aggregate from its current one (undefined: none yet) and the event's value. */
function nextField(type: AggregationType, cur: JsonMap | undefined, v: unknown, key: string): JsonMap {
  const num = (): number => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`field '${key}' must be a number for ${type}, got ${show(v)}`);
    return v;
  };
  const prev = (field: string): number => (typeof cur?.[field] === 'number' ? (cur[field] as number) : 0);
  switch (type) {
    case 'AggSum':
      return { value: prev('value') + num() };
    case 'AggMax':
      return { value: cur ? Math.max(prev('value'), num()) : num() };
    case 'AggMin':
      return { value: cur ? Math.min(prev('value'), num()) : num() };
    case 'AggAvg':
      return { sum: prev('sum') + num(), num: prev('num') + 1 };
    case 'AggCount':
      return { value: prev('value') + 1 };
    case 'AggDiscreteHistogram': {
      if (typeof v !== 'string' && typeof v !== 'boolean' && (typeof v !== 'number' || !Number.isFinite(v))) {
        throw new TypeError(`field '${key}' must be a string, number or boolean for ${type}, got ${show(v)}`);
      }
      const buckets = { ...(isJsonMap(cur?.buckets) ? cur.buckets : {}) } as Record<string, number>;
      const b = String(v);
      buckets[b] = (buckets[b] ?? 0) + 1;
      return { buckets };
    }
  }
}

/**
 * Applies one event to an aggregation state in place: finds the aggregated field (a leaf of the
 * flattened event), its group, and updates the group's value. Returns false (state untouched)
 * when the event lacks the field; throws a TypeError naming the field when its value does not
 * fit the aggregation (a string summed).
 *
 * @example
 * ```ts
 * const s = { values: {} };
 * applyAggregation(s, { key: 'n', aggregationType: 'AggSum', groupByKeys: [] }, { n: 2 });
 * s.values; // { 'n:AggSum': { value: 2 } }
 * ```
 */
export function applyAggregation(state: AggregationState, spec: AggregationSpec, payload: JsonMap): boolean {
  const v = leafAt(payload, spec.key);
  if (v === undefined) return false;
  const path = groupPath(spec, payload);
  let node = state.values;
  for (let i = 0; i < path.length - 1; i++) {
    const next = node[path[i]];
    if (next === undefined) node = node[path[i]] = {};
    else if (isJsonMap(next)) node = next;
    else
      throw new TypeError(
        `aggregation state at '${path.slice(0, i + 1).join('.')}' is not a map (was the aggregation's groupByKeys changed?)`,
      );
  }
  const last = path[path.length - 1];
  const cur = node[last];
  node[last] = nextField(spec.aggregationType, isJsonMap(cur) ? cur : undefined, v, spec.key);
  return true;
}

/** The options of {@link aggregate}: agglo's `Aggregator` message, plus where the state lives. */
export const aggregateOptions = {
  name: opt.string("the process name (agglo's Aggregator.name; default the node name): applied-message records are per process"),
  condition: opt.object('agglo Condition: events for which it is false pass through untouched (default: every event)'),
  stateStore: opt
    .any<string | KeyValueStore>(
      'state store: a URL (memory:, mem:, sqlite:…, mysql://…, postgres://…, redis://…), shared by every node naming it, or a KeyValueStore',
    )
    .withDefault('memory:'),
  aggregation: opt
    .object('agglo Aggregation: { key, aggregationType (AggSum, AggMax, AggMin, AggAvg, AggCount, AggDiscreteHistogram), groupByKeys }')
    .require(),
  asyncCheckpoint: opt.boolean('accepted for agglo configs; the state is always committed before the event goes on').withDefault(false),
  forwardState: opt.boolean("add the pipeline's aggregation state to the event as internal:aggregation:<pipeline>").withDefault(false),
  dedupeWindow: opt
    .duration('how long the record that a message was applied is kept, so a redelivery within it is not applied twice', { min: 1 })
    .withDefault('24h'),
};

/**
 * agglo's aggregator as a node kind: sum, max, min, average, count or a discrete histogram of one
 * field, optionally per group of other fields, kept in a key-value store under the pipeline's
 * state key (`<partition>:<pipeline>:as`, pipeline = the event's `internal:name`, else the process
 * name). Each update is one atomic batch — the new state, checked against the version read, and a
 * record of the applied message id — retried on conflict: several nodes or processes may share a
 * store, no lock is taken, and a message redelivered after a crash (same `Nats-Msg-Id`, Redis
 * stream id or `internal:messageID`) is not applied twice. The event goes on (and so is acked
 * downstream) only after the commit; with `forwardState` it carries the state as
 * `internal:aggregation:<pipeline>`.
 *
 * @example
 * ```ts
 * net.add('sum', aggregate({ aggregation: { key: 'amount', aggregationType: 'AggSum', groupByKeys: ['user'] }, forwardState: true, stateStore: 'sqlite:./state.db' }));
 * ```
 */
export const aggregate = defineNode({
  name: 'aggregate',
  role: 'pipeline',
  summary: "agglo's aggregator: sum/max/min/avg/count/histogram per group in a key-value store, exactly once per message id.",
  options: aggregateOptions,
  positional: [],
  services: [AGGLO_STATE_SERVICE],
  example:
    "net.add('sum', aggregate({ aggregation: { key: 'amount', aggregationType: 'AggSum', groupByKeys: ['user'] }, forwardState: true }));",
  luaExample:
    'tb.create_aggregate("sum", { aggregation = { key = "amount", aggregationType = "AggSum", groupByKeys = { "user" } }, forwardState = true })',
  build: (o) => {
    const where = "node kind 'aggregate'";
    const spec = readStateProto('aggregation', o.aggregation, where) as unknown as AggregationSpec;
    if (spec.key === '') throw new TributaryError('BAD_OPTION', `${where}: option 'aggregation.key' must name a field`);
    if ((spec.aggregationType as string) === 'AggUnknown') {
      throw new TributaryError(
        'BAD_OPTION',
        `${where}: option 'aggregation.aggregationType' must be set (AggSum, AggMax, AggMin, AggAvg, AggCount or AggDiscreteHistogram)`,
      );
    }
    const holds = stateCondition(o.condition, where);
    if (typeof o.stateStore !== 'string' && !isKeyValueStore(o.stateStore)) {
      throw new TributaryError('BAD_OPTION', `${where}: option 'stateStore' must be a store URL or a KeyValueStore`);
    }
    const stateOption = o.stateStore;
    return {
      role: 'pipeline',
      kind: 'aggregate',
      services: [AGGLO_STATE_SERVICE],
      create: (ctx) => {
        const handle = storeHandle(ctx, stateOption);
        const proc = o.name ?? ctx.name;
        // Applied records are per process and aggregation: two aggregations of one pipeline apply the same message each.
        const path0 = `${spec.key}:${spec.aggregationType}${spec.groupByKeys.length ? `:${spec.groupByKeys.join(',')}` : ''}`;
        const update = async (payload: unknown, event: Event): Promise<unknown> => {
          if (!isJsonMap(payload))
            throw new TypeError(`aggregate needs a JSON object payload, got ${Array.isArray(payload) ? 'a list' : typeof payload}`);
          if (!holds(payload)) return payload;
          const store = await handle.store();
          const pipeline = typeof payload['internal:name'] === 'string' && payload['internal:name'] ? payload['internal:name'] : proc;
          const key = `${partitionOf(payload)}:${pipeline}:as`;
          const id = messageIdOf(event);
          const applied = id === undefined ? undefined : `${key}:applied:${proc}:${path0}:${id}`;
          // The applied record is read only after a refused batch: the batch checks it is absent, so
          // a redelivery costs one retry and a first delivery one read less.
          let refused = false;
          const state = await casLoop(
            store,
            async () => {
              const lookup = refused && applied;
              refused = true;
              const [cur, seen] = await Promise.all([store.get<AggregationState>(key), lookup ? store.get(lookup) : undefined]);
              const now: AggregationState | undefined = cur && isJsonMap(cur.value?.values) ? cur.value : undefined;
              if (seen) return { result: now }; // applied before a crash or by another node: not again
              const next: AggregationState = now ? structuredClone(now) : { values: {} };
              if (!applyAggregation(next, spec, payload)) return { result: now };
              const ops: BatchOp[] = [
                { op: 'check', key, version: cur?.version ?? 0 },
                { op: 'put', key, value: next },
              ];
              if (applied)
                ops.push({ op: 'check', key: applied, version: 0 }, { op: 'put', key: applied, value: 1, ttlMs: o.dedupeWindow });
              return { ops, result: next };
            },
            `aggregate '${ctx.name}' updating '${key}'`,
            ctx.scheduler,
          );
          if (!o.forwardState || !state) return payload;
          return { ...payload, [`internal:aggregation:${pipeline}`]: state.values };
        };
        const stage = functionStage(
          ctx,
          update,
          1,
          (e) => e.payload,
          (e, r, emit) => emit(r === e.payload ? e : withPayload(e, r)),
        );
        return releasingAtEnd(stage, handle);
      },
    };
  },
});
