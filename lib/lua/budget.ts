import { lauxlib, lua, to_luastring, type LuaCFunction, type LuaState } from './fengari';
import { pcallLocated } from './error-value';

/** Instructions between two looks at the clock: rare enough to cost little per call, often enough to stop in time. */
const CHECK_EVERY = 1000;
const NOT_STARTED = -1;

/**
 * A time budget for each call of a Lua function from JS (the functions given to nodes, and
 * Lua functions passed to exports): a call still running after `ms` is stopped with a Lua
 * error `file:line: …` at the line it was executing. It uses the instruction-count hook, as
 * the script timeout does, and the clock is wall-clock on purpose: the budget guards the
 * process (one endless loop in a map would otherwise freeze every node), not the network's
 * (possibly virtual) time.
 *
 * The hook is set only around a call and the clock is first read after {@link CHECK_EVERY}
 * instructions, so a short call costs two `lua_sethook`s and no clock read; the budget thus
 * starts counting a few microseconds late, which does not matter for a guard. A nested call
 * (Lua → JS export → Lua) gets its own budget and gives back the hook it found (the outer
 * call's, or the script timeout's) when it returns; the outer call's clock kept running.
 * A script's `pcall` cannot swallow the stop: once over budget, every further Lua
 * instruction of the call raises the error again, until the call has returned to JS.
 *
 * @example
 * ```ts
 * const budget = new CallBudget(1000);
 * lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, ref);
 * const status = budget.pcall(L, 0, 1); // like lua_pcall(L, 0, 1, 0), stopped after 1 s
 * ```
 */
export class CallBudget {
  /** When the running call's clock started (`performance.now()`), or {@link NOT_STARTED}. */
  private start = NOT_STARTED;
  private readonly message: Uint8Array;

  /**
   * `ms` ≤ 0 or `Infinity` means no budget: calls run unhooked. `now` is the clock the budget
   * reads (default `performance.now`); `tributary test` gives one that counts checks instead,
   * so the budget stops endless loops without reading the wall clock.
   */
  constructor(
    readonly ms: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.message = to_luastring(`function still running after ${ms} ms (an endless loop?); stopped (callTimeout)`);
  }

  /** False when calls are not limited. */
  get enabled(): boolean {
    return this.ms > 0 && Number.isFinite(this.ms);
  }

  /**
   * `lua_pcall(L, nargs, nresults, 0)` under the budget; the hook found before is restored
   * afterwards whatever happens.
   *
   * @example
   * ```ts
   * if (budget.pcall(L, args.length, 1) !== lua.LUA_OK) throw new LuaError(errorText(L, -1));
   * ```
   */
  pcall(L: LuaState, nargs: number, nresults: number): number {
    if (!this.enabled) return pcallLocated(L, nargs, nresults, lua.lua_pcall);
    const hook = lua.lua_gethook(L);
    // Usually no hook is set (a node's call, outside any script run): skip reading the rest.
    const mask = hook === null ? 0 : (lua.lua_gethookmask(L) as number);
    const count = hook === null ? 0 : (lua.lua_gethookcount(L) as number);
    const outerStart = this.start;
    this.start = NOT_STARTED;
    lua.lua_sethook(L, this.hook, lua.LUA_MASKCOUNT, CHECK_EVERY);
    try {
      return pcallLocated(L, nargs, nresults, lua.lua_pcall);
    } finally {
      lua.lua_sethook(L, hook, mask, count);
      this.start = outerStart;
    }
  }

  /**
   * Gives `T` — a thread that runs only budgeted calls, one at a time from JS (the bridge's
   * call thread) — the budget's hook for good, so {@link pcallOwn} costs no `lua_sethook`s.
   *
   * @example
   * ```ts
   * budget.install(T);
   * lua.lua_pushcfunction(T, locateError);  // index 1: the message handler
   * ```
   */
  install(T: LuaState): void {
    if (this.enabled) lua.lua_sethook(T, this.hook, lua.LUA_MASKCOUNT, CHECK_EVERY);
  }

  /**
   * `lua_pcall(T, nargs, nresults, msgh)` on a thread given {@link install}: the call gets a
   * fresh budget (an outer call's clock keeps running) and the hook is put back to its normal
   * rate if the call was stopped.
   *
   * @example
   * ```ts
   * if (budget.pcallOwn(T, 1, 1, 1) !== lua.LUA_OK) throw new LuaError(errorText(T, -1));
   * ```
   */
  pcallOwn(T: LuaState, nargs: number, nresults: number, msgh: number): number {
    if (!this.enabled) return lua.lua_pcall(T, nargs, nresults, msgh);
    const outerStart = this.start;
    this.start = NOT_STARTED;
    try {
      return lua.lua_pcall(T, nargs, nresults, msgh);
    } finally {
      this.start = outerStart;
      if (this.tripped) {
        this.tripped = false;
        lua.lua_sethook(T, this.hook, lua.LUA_MASKCOUNT, CHECK_EVERY);
      }
    }
  }

  /** Set when the hook stopped a call (and sped itself up to stop it for good). */
  private tripped = false;

  private readonly hook = (S: LuaState): void => {
    const now = this.now();
    if (this.start === NOT_STARTED) {
      this.start = now;
      return;
    }
    if (now - this.start <= this.ms) return;
    // From now on every instruction raises again, so a script's pcall inside a loop can
    // catch the stop but not keep the call running: each frame unwinds at its next instruction.
    this.tripped = true;
    lua.lua_sethook(S, this.hook, lua.LUA_MASKCOUNT, 1);
    lauxlib.luaL_where(S, 0);
    lua.lua_pushstring(S, this.message);
    lua.lua_concat(S, 2);
    lua.lua_error(S);
  };
}

/** Gives the coroutine `co` the hook of the thread resuming it (or none). */
function passHook(S: LuaState, co: LuaState | null): void {
  if (!co || co === S) return;
  const hook = lua.lua_gethook(S);
  lua.lua_sethook(co, hook, hook === null ? 0 : lua.lua_gethookmask(S), hook === null ? 0 : lua.lua_gethookcount(S));
}

/**
 * Makes coroutines run under the hook of whoever resumes them: a hook belongs to one Lua
 * thread, and a coroutine created before a call (at the top of a script, say) would otherwise
 * run an endless loop unchecked inside that call's time budget. `coroutine.resume` and the
 * functions `coroutine.wrap` returns pass the resumer's hook on at every resume.
 *
 * @example
 * ```ts
 * openLibraries(L, true);
 * hookCoroutines(L);
 * ```
 */
export function hookCoroutines(L: LuaState): void {
  lua.lua_getglobal(L, to_luastring('coroutine'));
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_getfield(L, -1, to_luastring('resume'));
  const resume = lua.lua_tocfunction(L, -1) as LuaCFunction | null;
  lua.lua_getfield(L, -2, to_luastring('wrap'));
  const wrap = lua.lua_tocfunction(L, -1) as LuaCFunction | null;
  lua.lua_pop(L, 2);
  if (resume) {
    lua.lua_pushcfunction(L, (S) => {
      passHook(S, lua.lua_tothread(S, 1) as LuaState | null);
      return resume(S);
    });
    lua.lua_setfield(L, -2, to_luastring('resume'));
  }
  if (wrap) {
    lua.lua_pushcfunction(L, (S) => {
      wrap(S); // pushes the wrapping function, whose upvalue is the coroutine
      lua.lua_getupvalue(S, -1, 1);
      lua.lua_pushcclosure(S, resumeWrapped, 2);
      return 1;
    });
    lua.lua_setfield(L, -2, to_luastring('wrap'));
  }
  lua.lua_pop(L, 1);
}

/** A `coroutine.wrap` function: upvalue 1 is fengari's own wrapper, 2 its coroutine. */
const resumeWrapped: LuaCFunction = (S) => {
  passHook(S, lua.lua_tothread(S, lua.lua_upvalueindex(2)) as LuaState | null);
  const n = lua.lua_gettop(S);
  lua.lua_pushvalue(S, lua.lua_upvalueindex(1));
  lua.lua_insert(S, 1);
  lua.lua_call(S, n, lua.LUA_MULTRET);
  return lua.lua_gettop(S);
};
