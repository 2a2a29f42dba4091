// The nested agglo messages of aggregate's and complete's options (Aggregation, Completion,
// Condition), read in the protobuf-JSON mapping by agglo's proto reader, with errors naming the
// node kind and the option path.
import { TributaryError, errorMessage } from '../errors';
import { compileCondition } from './condition';
import { AGGREGATION, COMPLETION, readMessage } from './proto';
import type { JsonMap } from './stateful';

function named<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new TributaryError('BAD_OPTION', `${where}: ${errorMessage(err)}`);
  }
}

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
  return named(where, () => readMessage(which === 'aggregation' ? AGGREGATION : COMPLETION, raw, which));
}

/**
 * The `condition` option as a predicate over the event: absent or `{}` holds for every event.
 *
 * @example
 * ```ts
 * stateCondition({ exists: { ops: [{ key: 'user', op: 'Exists' }] } }, "node kind 'aggregate'")({ user: 1 }); // true
 * ```
 */
export function stateCondition(raw: unknown, where: string): (payload: JsonMap) => boolean {
  const c = named(where, () => compileCondition(raw, 'condition'));
  return c.always ? () => true : (payload) => c.test(payload);
}
