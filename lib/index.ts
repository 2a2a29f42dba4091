// The core's public API ('tributary'): events, delivery, the network, the core node kinds,
// the option schema and the plugin machinery. Families are plugins on their own subpaths:
// 'tributary/lua', 'tributary/windows', 'tributary/connectors', 'tributary/plugins' (all
// built-in plugins), 'tributary/testing'. Importing this module loads none of them.
export { TributaryError, errorMessage, type TributaryErrorCode } from './errors';
export { parseDuration, parseTimer, formatDuration, MAX_TIMER_MS, type Duration } from './duration';
export {
  createEvent,
  withPayload,
  withError,
  withoutError,
  withDelivery,
  isEvent,
  ack,
  nack,
  type Event,
  type EventMeta,
  type EventError,
  type EventInit,
  type Payload,
} from './event';
export { createDelivery, forkDelivery, joinDeliveries, type Delivery, type Settlement } from './delivery';
export { Network, type DeadLetter, type NetworkOptions, type NetworkReport, type NetworkState, type NetworkJSON } from './network/network';
export { createNodeContext, emptyStats, childLogger } from './network/context';
export { toOperator, toPayloadOperator, type StandaloneOptions } from './network/operator';
export { nodes, createRegistry, builtinKinds } from './nodes/index';
export { Registry, defineNode, buildKind, type NodeKind, type NodeFactory } from './nodes/registry';
export {
  opt,
  resolveOptions,
  Field,
  type FieldExtras,
  type InputOf,
  type OutputOf,
  type Presence,
  type OptionSpec,
  type OptionsSchema,
  type OptionType,
} from './nodes/options';
export { optionJsonSchema, optionsJsonSchema, kindJsonSchema, type JsonSchema } from './nodes/json-schema';
export {
  definePlugin,
  lazyPlugin,
  isLazyPlugin,
  type Plugin,
  type LazyPlugin,
  type LuaExport,
  type ServiceProvider,
  type KindLike,
} from './nodes/plugin';
export { luaSignature, renderCatalogue } from './nodes/catalogue';
export type { LuaHost } from './lua/host';
export type {
  NodeSpec,
  SourceNode,
  PipelineNode,
  SinkNode,
  NodeContext,
  NodeProbe,
  NodeStats,
  NodeProgress,
  Role,
  Logger,
  LogBindings,
} from './nodes/types';
export type { NetworkSnapshot, NodeSnapshot } from './network/snapshot';
export { TIMING_BUCKETS } from './network/probe';
export type { TextOutput } from './nodes/tester';
export { formatPayload } from './nodes/tester';
export type { InjectorIO, FlowOptions } from './nodes/injector';
export { workerPool, type PoolWork } from './operators/pool';
export { periodic } from './operators/periodic';
export { operate, handle, type OperatorHandlers } from './operators/operate';
export { CUT_OFF } from './nodes/stage';
export { suggest } from './util/suggest';
export { isPlainObject, isThenable } from './util/values';
export { redact, shownUrl, redactUrlSecrets, redactCredentials } from './util/redact';
// Keyed state, its stores (SQL and Redis load on first use) and checkpoints (docs/state.md).
export * from './state/index';
export type { StateHandle } from './nodes/types';
export type { StateOptions, CheckpointStats } from './network/network';
