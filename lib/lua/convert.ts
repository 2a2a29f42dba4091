// Kept so that importers of './convert' need not change at once: the conversion now lives in
// strings.ts (Lua strings as text or bytes), values.ts (data both ways) and bridge.ts
// (functions both ways, Lua errors). New code imports from those.
export { luaBytesToJS, luaText } from './strings';
export { type FunctionMode } from './values';
export { LuaBridge, LuaError } from './bridge';
