import { definePlugin } from '../nodes/plugin';
import { aggregate } from './aggregate';
import { annotate } from './annotate';
import { complete } from './complete';
import { continueNode } from './continue';
import { aggloFilter } from './filter';
import { aggloIngest } from './ingest';
import { spawn } from './spawn';
import { tee, teePayload } from './tee';
import { AGGLO_STATE_SERVICE, aggloStateService } from './stateful';
import { transform } from './transform';

/**
 * agglo's processes as node kinds: `annotate`, `aggregate`, `complete`, `agglo_filter`,
 * `transform`, `tee`, `tee_payload`, `continue`, `spawn` and `agglo_ingest` (options: agglo's
 * protobuf-JSON), and the service that shares the state stores of `aggregate` and `complete`.
 *
 * @example
 * ```ts
 * const net = new Network({ plugins: [aggloPlugin] });
 * net.create('continue', 'only_tests', { condition: { exists: { ops: [{ key: 'doTest', op: 'Exists' }] } } });
 * ```
 */
export const aggloPlugin = definePlugin({
  name: 'agglo',
  kinds: [aggloFilter, aggloIngest, aggregate, annotate, complete, continueNode, spawn, tee, teePayload, transform],
  services: { [AGGLO_STATE_SERVICE]: aggloStateService },
});
