// The nested agglo messages of aggregate's and complete's options (Aggregation, Completion,
// Condition), read in the protobuf-JSON mapping with errors naming the option path.
import { TributaryError } from '../errors';
import { suggest } from '../util/suggest';
import type { JsonMap } from './stateful';

const AGGREGATION_TYPES = ['AggUnknown', 'AggSum', 'AggMax', 'AggMin', 'AggAvg', 'AggCount', 'AggDiscreteHistogram'];

/**
 * Reads the `aggregation` or `completion` option (agglo's message in protobuf JSON: unknown
 * fields rejected, enums by name or number, int64 as number or string), defaults filled.
 *
 * @example
 * ```ts
 * readStateProto('completion', { joinKeys: ['a', 'b'], timeoutMs: '1000' }, "node kind 'complete'");
 * // { joinKeys: ['a', 'b'], timeoutMs: 1000 }
 * ```
 */
export function readStateProto(which: 'aggregation' | 'completion', raw: unknown, where: string): JsonMap {
  const fields = which === 'aggregation' ? ['key', 'aggregationType', 'groupByKeys'] : ['joinKeys', 'timeoutMs'];
  const bad = (field: string, msg: string) =>
    new TributaryError('BAD_OPTION', `${where}: option '${which}${field ? `.${field}` : ''}' ${msg}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('', 'must be an object');
  const input = raw as JsonMap;
  for (const k of Object.keys(input)) {
    if (!fields.includes(k)) {
      const hint = suggest(k, fields);
      throw bad('', `has an unknown field '${k}' (fields: ${fields.join(', ')})${hint ? ` — did you mean '${hint}'?` : ''}`);
    }
  }
  const strings = (k: string): string[] => {
    const v = input[k] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(k, 'must be a list of strings');
    return v as string[];
  };
  if (which === 'aggregation') {
    const key = input.key ?? '';
    if (typeof key !== 'string') throw bad('key', 'must be a string');
    let type = input.aggregationType ?? 'AggUnknown';
    if (typeof type === 'number' && AGGREGATION_TYPES[type] !== undefined) type = AGGREGATION_TYPES[type];
    if (typeof type !== 'string' || !AGGREGATION_TYPES.includes(type)) {
      const hint = typeof type === 'string' ? suggest(type, AGGREGATION_TYPES) : undefined;
      throw bad(
        'aggregationType',
        `must be one of ${AGGREGATION_TYPES.join(', ')}, got ${JSON.stringify(type)}${hint ? ` — did you mean "${hint}"?` : ''}`,
      );
    }
    return { key, aggregationType: type, groupByKeys: strings('groupByKeys') };
  }
  const t = input.timeoutMs ?? 0;
  const n = typeof t === 'string' && /^-?\d+$/.test(t.trim()) ? Number(t) : t;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad('timeoutMs', `must be an integer, got ${JSON.stringify(t)}`);
  return { joinKeys: strings('joinKeys'), timeoutMs: n };
}

/**
 * The `condition` option as a predicate over the event: absent or `{}` holds for every event.
 *
 * @example
 * ```ts
 * stateCondition(undefined, "node kind 'aggregate'")({ a: 1 }); // true
 * ```
 */
export function stateCondition(raw: unknown, where: string): (payload: JsonMap) => boolean {
  if (raw === undefined || raw === null || (typeof raw === 'object' && Object.keys(raw).length === 0)) return () => true;
  throw new TributaryError('BAD_OPTION', `${where}: option 'condition' needs agglo's condition evaluator (lib/agglo/condition.ts)`);
}
