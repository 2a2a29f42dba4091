import { randomUUID } from 'node:crypto';
import { defineNode } from '../nodes/registry';
import { opt } from '../nodes/options';
import { processNode } from './process';

/** The key agglo stores each incoming event's unique id under. */
export const MESSAGE_ID_KEY = 'internal:messageID';

/**
 * Node giving each incoming event a fresh random UUID in `internal:messageID` (replacing any),
 * as binge does when an event arrives, before it runs through the pipelines. Non-object
 * payloads become error events.
 *
 * @example
 * ```ts
 * net.add('ingest', agglo.aggloIngest());
 * ```
 */
export const aggloIngest = defineNode({
  name: 'agglo_ingest',
  role: 'pipeline',
  summary: 'Stamps each incoming event with a fresh internal:messageID (a random UUID), as binge does on arrival.',
  options: { key: opt.string('the field to write the id to').withDefault(MESSAGE_ID_KEY) },
  positional: [],
  example: "net.add('ingest', agglo.aggloIngest());",
  luaExample: 'tb.create_agglo_ingest("ingest")',
  build: (o) => processNode('agglo_ingest', undefined, () => (payload) => ({ ...payload, [o.key]: randomUUID() })),
});
