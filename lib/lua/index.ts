export { LuaRuntime, type LuaRuntimeOptions, type ScriptNode } from './runtime';
export type { LuaHost } from './host';
export { LuaBridge, LuaError, luaBytesToJS, type FunctionMode } from './convert';
export { luaArgsToOptions, luaSignature, coreExports } from './module';
export { renderLuaReference, LUA_REFERENCE_BEGIN, LUA_REFERENCE_END, replaceGeneratedSection, writeLuaDocs } from './docs';
