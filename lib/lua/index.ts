export { LuaRuntime, type LuaRuntimeOptions, type ScriptNode } from './runtime';
export type { LuaHost } from './host';
export { LuaBridge, LuaError } from './bridge';
export { luaBytesToJS } from './strings';
export type { FunctionMode } from './values';
export { luaArgsToOptions, luaSignature, coreExports } from './module';
export { renderLuaReference, LUA_REFERENCE_BEGIN, LUA_REFERENCE_END, replaceGeneratedSection, writeLuaDocs } from './docs';
// The other text front-end: declarative YAML/JSON network files (their functions are Lua).
export {
  buildFromDocument,
  checkDocument,
  expandEnv,
  parseNetworkText,
  SourcePositions,
  type BuildOptions,
  type BuildResult,
  type DocumentRuntime,
  type EdgeDocument,
  type NetworkDocument,
  type NodeDocument,
} from '../declarative/index';
export { isAggloConfig, isNetworkFile, loadNetworkFile, loadNetworkText, type LoadOptions } from '../declarative/load';
export { networkJsonSchema } from '../declarative/schema';
