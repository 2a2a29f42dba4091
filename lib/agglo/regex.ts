// Go (RE2) regular expressions as agglo's configs write them, run by JavaScript's engine:
// leading inline flags `(?i)`, `(?s)`, `(?m)` become RegExp flags, `(?P<name>…)` becomes
// `(?<name>…)`; and Go's replacement templates (`$1`, `${1}`, `$name`, `$$`) are expanded
// the way Go's `Regexp.Expand` does, so `$1x` means the group named `1x` (empty), not `$1`+`x`.
import { protoError } from './proto';

/**
 * Compiles a Go-syntax pattern to a JavaScript RegExp; a bad pattern is an error naming `path`.
 *
 * @example
 * ```ts
 * goRegExp('(?i)^buzz/(.*)', 'mapRegexArgs.regex').test('BUZZ/x'); // true
 * ```
 */
export function goRegExp(pattern: string, path: string, extraFlags = ''): RegExp {
  let source = pattern;
  let flags = extraFlags;
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline) {
    if (inline[1].includes('U')) throw protoError(path, `regex flag U (ungreedy) is not supported: ${JSON.stringify(pattern)}`);
    for (const f of inline[1]) if (!flags.includes(f)) flags += f;
    source = source.slice(inline[0].length);
  }
  source = source.replace(/\(\?P</g, '(?<');
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw protoError(path, `invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/**
 * Replaces every match of `re` (global) in `input` by Go's expansion of `template`:
 * `$n`/`${n}` a numbered group, `$name`/`${name}` a named one, `$$` a dollar; an unknown or
 * unmatched group expands to nothing.
 *
 * @example
 * ```ts
 * goReplaceAll(goRegExp('buzz/(.*)', 'r', 'g'), 'buzz/fizz', '$1'); // 'fizz'
 * ```
 */
export function goReplaceAll(re: RegExp, input: string, template: string): string {
  const global = re.global ? re : new RegExp(re.source, re.flags + 'g');
  return input.replace(global, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const named = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
    const groupsEnd = named ? args.length - 3 : args.length - 2;
    const groups = args.slice(0, groupsEnd) as Array<string | undefined>;
    return expand(template, groups, named);
  });
}

function expand(template: string, groups: Array<string | undefined>, named: Record<string, string | undefined> | undefined): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    let end = i;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^\w+$/.test(inner)) {
        name = inner;
        end = close;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m) {
        name = m[0];
        end = i + m[0].length;
      }
    }
    if (name === undefined) {
      // Go copies a malformed `$` reference literally.
      out += c;
      continue;
    }
    if (/^\d+$/.test(name)) out += groups[Number(name)] ?? '';
    else out += named?.[name] ?? '';
    i = end;
  }
  return out;
}
