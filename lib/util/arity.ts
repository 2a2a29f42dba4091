const IGNORES_EVENT = Symbol.for('tributary.ignoresEvent');

/**
 * Whether a node function called as `fn(payload, event)` can be seen never to read `event`,
 * so that `fn(payload)` does the same: it was declared so ({@link declareIgnoresEvent}), or
 * its own source text shows at most one declared parameter (no rest parameter, no second
 * parameter hidden behind a default value) and no `arguments`. A fused chain then skips making
 * the event (see `fuse`). The answer errs on the safe side: anything it cannot read for
 * certain (bound or native functions, proxies, strings, comments or regular expressions in the
 * parameter list, computed method names) counts as "may read the event", which only costs speed.
 *
 * @example
 * ```ts
 * ignoresEvent((n: number) => n * 2);                   // true
 * ignoresEvent((p: Bet, e: Event) => e.meta.key);       // false
 * ignoresEvent((a: number, b = 1) => a + b);            // false (fn.length is 1, but b is read)
 * ```
 */
export function ignoresEvent(fn: (...args: never[]) => unknown): boolean {
  if (typeof fn !== 'function') return false;
  if ((fn as unknown as Record<symbol, unknown>)[IGNORES_EVENT] === true) return true;
  if (fn.length > 1) return false;
  let src: string;
  try {
    src = Function.prototype.toString.call(fn);
  } catch {
    return false;
  }
  const params = parameterList(src);
  if (params === undefined || /\barguments\b/.test(src)) return false;
  const list = topLevelParams(params);
  return list !== undefined && list.length <= 1 && !list.some((p) => p.startsWith('...'));
}

/**
 * Declares that `fn(payload, event)` does what `fn(payload)` does, for a wrapper whose source
 * text says otherwise (one taking `(a, b?, ...rest)` that passes an event on to nobody):
 * {@link ignoresEvent} then answers true. Returns `fn`.
 *
 * @example
 * ```ts
 * const wrapped = declareIgnoresEvent((payload: unknown, ...more: unknown[]) => call(payload));
 * ignoresEvent(wrapped); // true
 * ```
 */
export function declareIgnoresEvent<F extends (...args: never[]) => unknown>(fn: F): F {
  Object.defineProperty(fn, IGNORES_EVENT, { value: true });
  return fn;
}

const ARROW_ONE = /^(?:async\s+)?[\p{L}\p{Nl}$_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}$_]*\s*=>/u;

/** The text between a function's parameter parentheses, or undefined when not certain. */
function parameterList(src: string): string | undefined {
  const s = src.trimStart();
  if (s.endsWith('{ [native code] }')) return undefined;
  const one = ARROW_ONE.exec(s);
  if (one !== null) return one[0].replace(/^async\s+/, '').replace(/\s*=>$/, '');
  // `(…) =>`, `async (…) =>`, `function name(…)`, `async function* name(…)`, `name(…) {`: the
  // first parenthesis opens the parameters unless a computed name (`[…](…)`) comes first.
  const open = s.indexOf('(');
  if (open < 0 || s.slice(0, open).includes('[')) return undefined;
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return s.slice(open + 1, i);
  }
  return undefined;
}

/** Splits a parameter list at its top-level commas; undefined when it holds text this cannot read safely. */
function topLevelParams(params: string): string[] | undefined {
  if (/["'`/]/.test(params)) return undefined;
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < params.length; i++) {
    const c = params[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(params.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(params.slice(start).trim());
  // A trailing comma (`(a,) =>`) leaves an empty last entry; `()` leaves one empty entry.
  return out.filter((p) => p !== '');
}
