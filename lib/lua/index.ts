export { LuaRuntime, type LuaRuntimeOptions, type ScriptNode } from './runtime';
export type { LuaHost } from './host';
export { LuaBridge, LuaError } from './bridge';
export { luaBytesToJS } from './strings';
export type { FunctionMode } from './values';
export { luaArgsToOptions, luaSignature, coreExports } from './module';
export { renderLuaReference, LUA_REFERENCE_BEGIN, LUA_REFERENCE_END, replaceGeneratedSection, writeLuaDocs } from './docs';
