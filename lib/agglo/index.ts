// agglo (kmgreen2/agglo, binge) in Tributary: its processes as node kinds, its conditions, and
// the translator from an agglo config to a NetworkDocument.
import { aggregate } from './aggregate';
import { annotate } from './annotate';
import { complete } from './complete';
import { continueNode } from './continue';
import { aggloFilter } from './filter';
import { aggloIngest } from './ingest';
import { spawn } from './spawn';
import { tee, teePayload } from './tee';
import { transform } from './transform';

/**
 * The agglo process kinds' typed factories.
 *
 * @example
 * ```ts
 * net.add('gate', agglo.continueNode({ condition: { exists: { ops: [{ key: 'id', op: 'Exists' }] } } }));
 * ```
 */
export const agglo = { aggregate, annotate, aggloFilter, aggloIngest, complete, continueNode, spawn, tee, teePayload, transform };

export { aggloPlugin } from './plugin';
export { alwaysTrue, compileCondition, flatten, resolvePath, type AggloCondition } from './condition';
export { ALLOW_EXEC, runJson } from './exec';
export { directoryObjectStore, memoryObjectStore, openObjectStore, type ObjectStore } from './objectstore';
export { compileTransformer, CompiledTransformer } from './transform';
export { mergeMaps, memoryKvStore, TEE_OUTPUT_KEY } from './tee';
export { SPAWN_OUTPUT_KEY } from './spawn';
export { MESSAGE_ID_KEY } from './ingest';
export { aggloToDocument, externalEnvName, isAggloConfig, type AggloDocumentOptions, type NodeChoice } from './config';
