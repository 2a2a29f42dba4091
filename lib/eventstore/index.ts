export { EventStore, DEFAULT_CHUNK, MAX_CHUNK, type EventStoreOptions, type PollOptions, type ConsumerInfo } from './store';
export { reliable$, live$, type EventReceipt, type ConsumeOptions, type ReliableOptions, type LiveOptions } from './consume';
export { EventStoreError, checkType, checkId, compareIds, type StoredEvent, type NewEvent, type EventStoreReason } from './types';
export { eventStoreDialect, eventStoreDataSourceOptions, type EventStoreDialect, type TableNames } from './dialect';
export { EVENTSTORE_SERVICE } from './common';
export { eventstoreSource, type EventstoreSourceOptions } from './source';
export { eventstoreSink, type EventstoreSinkOptions } from './sink';
export { eventstorePlugin } from './plugin';
export {
  EventArchiver,
  EventDiscarder,
  type ArchiverOptions,
  type DiscarderOptions,
  type HousekeepingProgress,
  type HousekeepingStats,
} from './housekeeping';
export { serveEventStore, type EventStoreServer, type EventStoreServerOptions } from './http';
export { eventstoreArchiver, eventstoreDiscarder } from './housekeeping-nodes';
