import { defineNode } from '../nodes/registry';
import { located, processNode, protoOptions, readProcessOptions, retryOf, RETRY_FIELD, withFields, type AggloMap } from './process';
import { FILTER } from './proto';
import { goRegExp } from './regex';

/** The options of {@link aggloFilter}: agglo's `Filter` message plus `retryStrategy`. */
export const AGGLO_FILTER_OPTIONS = withFields(FILTER, { retryStrategy: RETRY_FIELD });

function filterKeys(input: AggloMap, re: RegExp, keep: boolean): AggloMap {
  const out: AggloMap = {};
  for (const [k, v] of Object.entries(input)) {
    if (re.test(k) !== keep) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? filterKeys(v as AggloMap, re, keep) : v;
  }
  return out;
}

/**
 * Process node keeping (`keepMatched: true`) or removing the keys that match `regex` (Go
 * syntax, searched anywhere in the key), at every level of nested maps. agglo's `filter`
 * process; the kind is `agglo_filter` because `filter` is the SQL windows' kind.
 *
 * @example
 * ```ts
 * net.add('strip', agglo.aggloFilter({ regex: '^internal:', keepMatched: false }));
 * ```
 */
export const aggloFilter = defineNode({
  name: 'agglo_filter',
  role: 'pipeline',
  summary: "agglo's filter: keeps (or removes) the keys matching a regex, recursively through nested maps.",
  options: protoOptions(AGGLO_FILTER_OPTIONS, {
    name: 'the process name (for errors)',
    regex: 'Go-syntax regex searched in each key',
    keepMatched: 'true: keep only matching keys; false: remove them',
  }),
  positional: [],
  example: "net.add('strip', agglo.aggloFilter({ regex: '^internal:', keepMatched: false }));",
  luaExample: 'tb.create_agglo_filter("strip", { regex = "^internal:", keepMatched = false })',
  build: (options) => {
    const msg = readProcessOptions('agglo_filter', AGGLO_FILTER_OPTIONS, options);
    const re = located('agglo_filter', msg, () => goRegExp(msg.regex as string, 'regex'));
    const keep = msg.keepMatched === true;
    return processNode('agglo_filter', retryOf(msg), () => (payload) => filterKeys(payload, re, keep));
  },
});
