import 'reflect-metadata';

export { TributaryError, errorMessage, type TributaryErrorCode } from './errors';
export { parseDuration, formatDuration, type Duration } from './duration';
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
export { createNodeContext, emptyStats } from './network/context';
export { toOperator, toPayloadOperator, type StandaloneOptions } from './network/operator';
export { nodes, createRegistry, builtinKinds } from './nodes/index';
export { Registry, defineNode, type NodeKind, type NodeFactory } from './nodes/registry';
export { resolveOptions, type OptionSpec, type OptionsSchema, type OptionType } from './nodes/options';
export type { NodeSpec, SourceNode, PipelineNode, SinkNode, NodeContext, NodeStats, Role, Logger } from './nodes/types';
export type { TextOutput } from './nodes/tester';
export { formatPayload } from './nodes/tester';
export type { InjectorIO, FlowOptions } from './nodes/injector';
export { workerPool, type PoolWork } from './operators/pool';
export { periodic } from './operators/periodic';
export { CUT_OFF } from './nodes/stage';
export { connectors, connectorKinds } from './connectors/index';
export { HttpDeliveryError, type HttpDeadLetter } from './connectors/http/deliver';
export type { WebhookOptions } from './connectors/http/webhook';
export type { SlackOptions } from './connectors/http/slack';
export type { TelegramOptions } from './connectors/http/telegram';
export type { HttpSourceOptions, ListeningInfo } from './connectors/http/source';
export { LuaRuntime, type LuaRuntimeOptions, type ScriptNode, type LuaHost, LuaError, luaSignature, renderLuaReference } from './lua/index';
// SQL windows (issue 4)
export {
  windows,
  windowKinds,
  WINDOW_SERVICE,
  openWindowStore,
  dataSourceOptionsFromUrl,
  WindowStore,
  Lane,
  bindNamed,
  normalizeRow,
  toUnit,
  type WindowStoreOptions,
  type TableDeclaration,
  type ColumnDeclaration,
  type ColumnType,
  type WindowTable,
  type TimeUnit,
  type Dialect,
  type SqlParams,
  type WindowOptions,
  type QueryWindowOptions,
  type TimeWindowOptions,
  type CountWindowOptions,
  type FilterOptions,
  type ClearOptions,
} from './windows/index';
export { installWindowExports } from './windows/lua';
export type { HostContext, HostModule, WindowConfig } from './cli/hosts';
export type { NatsSourceOptions } from './connectors/nats/source';
export type { NatsSinkOptions } from './connectors/nats/sink';
export type { AmqpSourceOptions } from './connectors/amqp/source';
export type { AmqpSinkOptions } from './connectors/amqp/sink';
export { renderConnectorDocs } from './connectors/docs';
export type { FileSourceOptions } from './connectors/file/source';
export type { FileSinkOptions } from './connectors/file/sink';
export type { StdinSourceOptions, StdoutSinkOptions } from './connectors/file/stdio';
