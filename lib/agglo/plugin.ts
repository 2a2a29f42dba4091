import { definePlugin } from '../nodes/plugin';
import { annotate } from './annotate';
import { continueNode } from './continue';
import { aggloFilter } from './filter';
import { aggloIngest } from './ingest';
import { spawn } from './spawn';
import { tee, teePayload } from './tee';
import { transform } from './transform';

/**
 * agglo's processes as node kinds: `annotate`, `agglo_filter`, `transform`, `tee`,
 * `tee_payload`, `continue`, `spawn` and `agglo_ingest` (options: agglo's protobuf-JSON).
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [aggloPlugin] });
 * net.create('continue', 'only_tests', { condition: { exists: { ops: [{ key: 'doTest', op: 'Exists' }] } } });
 * ```
 */
export const aggloPlugin = definePlugin({
  name: 'agglo',
  kinds: [annotate, aggloFilter, aggloIngest, continueNode, spawn, tee, teePayload, transform],
});
