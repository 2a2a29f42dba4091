// Keyed state and its stores ('tributary' re-exports these): the KeyValueStore contract, the
// stores opened by URL, and the `stateful` node kind.
export type { BatchOp, Checkpointable, KeyValueStore, Versioned } from './types';
export { POSITION_HEADER, parsePosition } from './types';
export { memoryStore } from './memory';
export { openStateStore, type StateStoreOptions } from './open';
export { stateful, pathReader, type StatefulFn, type StatefulInfo, type StatefulResult } from './stateful';
export { statePlugin } from './plugin';
