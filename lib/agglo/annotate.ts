import { TributaryError } from '../errors';
import { defineNode } from '../nodes/registry';
import { compileCondition, type AggloCondition } from './condition';
import { deepCopy, located, processNode, protoOptions, readProcessOptions, retryOf, RETRY_FIELD, withFields } from './process';
import { ANNOTATOR, type ProtoMessage } from './proto';

/** The options of {@link annotate}: agglo's `Annotator` message plus `retryStrategy`. */
export const ANNOTATE_OPTIONS = withFields(ANNOTATOR, { retryStrategy: RETRY_FIELD });

/** The derived value that becomes the scheduler's time as RFC 3339 (UTC, seconds). */
export const CURRENT_TIME = 'derived:currentTime';

/**
 * RFC 3339 time of `ms` in UTC to the second, as agglo's `derived:currentTime` (Go's `time.RFC3339`).
 *
 * @example
 * ```ts
 * rfc3339(Date.UTC(2026, 10, 28, 23, 5, 9, 500)); // '2026-11-28T23:05:09Z'
 * ```
 */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

interface Annotation {
  fieldKey: string;
  value: string;
  condition: AggloCondition;
}

/**
 * Process node adding conditional annotations: for each `{ fieldKey, value, condition }` in
 * order whose condition holds on the event (as annotated so far), sets the top-level field
 * `fieldKey` to `value` (`derived:currentTime` becomes the scheduler's time, RFC 3339). A field
 * that is already there is an error, as in agglo.
 *
 * @example
 * ```ts
 * net.add('mark', agglo.annotate({
 *   annotations: [{ fieldKey: 'foobar', value: 'found', condition: { expression: { comparator: {
 *     lhs: { variable: { name: 'someDict.someFixed' } }, rhs: { literal: 'foobar' }, op: 'Equal' } } } }],
 * }));
 * ```
 */
export const annotate = defineNode({
  name: 'annotate',
  role: 'pipeline',
  summary: "agglo's annotator: adds fields (a fixed value or derived:currentTime) to events whose condition holds.",
  options: protoOptions(ANNOTATE_OPTIONS, {
    name: 'the process name (for errors)',
    annotations: 'list of { fieldKey, value, condition }: sets fieldKey to value (derived:currentTime: the time) when condition holds',
  }),
  positional: [],
  example:
    "net.add('mark', agglo.annotate({ annotations: [{ fieldKey: 'seen', value: 'derived:currentTime', condition: { exists: { ops: [{ key: 'id', op: 'Exists' }] } } }] }));",
  luaExample: 'tb.create_annotate("mark", { annotations = { { fieldKey = "checked", value = "yes" } } })',
  build: (options) => {
    const msg = readProcessOptions('annotate', ANNOTATE_OPTIONS, options);
    const annotations = located('annotate', msg, () =>
      (msg.annotations as ProtoMessage[]).map((a, i): Annotation => {
        const fieldKey = a.fieldKey as string;
        if (!fieldKey) throw new TributaryError('BAD_OPTION', `annotations[${i}].fieldKey: is required`);
        return { fieldKey, value: a.value as string, condition: compileCondition(a.condition, `annotations[${i}].condition`) };
      }),
    );
    return processNode('annotate', retryOf(msg), (ctx) => (payload) => {
      const out = deepCopy(payload);
      for (const a of annotations) {
        if (!a.condition.test(out)) continue;
        if (Object.prototype.hasOwnProperty.call(out, a.fieldKey)) {
          throw new Error(`field exists: cannot annotate with field '${a.fieldKey}'`);
        }
        out[a.fieldKey] = a.value === CURRENT_TIME ? rfc3339(ctx.scheduler.now()) : a.value;
      }
      return out;
    });
  },
});
