// Declarative networks (issue 15): YAML/JSON files of nodes and edges, built onto a Network
// with the same registry and validation as Lua and TypeScript.
export type { EdgeDocument, NetworkDocument, NodeDocument } from './document';
export { buildFromDocument, type BuildOptions, type BuildResult, type DocumentRuntime } from './build';
export { checkDocument, type DocumentSource } from './shape';
export { expandEnv, hasEnvReference, type EnvUse, type Expanded } from './env';
export { parseNetworkText, type ParsedFile } from './parse';
export { located, SourcePositions, type SourcePosition, type ValuePath } from './positions';
