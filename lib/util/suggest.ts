/**
 * The known name a misspelt one most likely meant, or undefined when none is close: an exact
 * match ignoring case, `_` and `-` (`max_batch` → `maxBatch`), else the nearest by edit distance
 * within a third of the name's length.
 *
 * @example
 * ```ts
 * suggest('intervall', ['interval', 'sql']); // 'interval'
 * suggest('max_batch', ['maxBatch']);        // 'maxBatch'
 * suggest('prot', ['port', 'path']);          // 'port'
 * suggest('zzz', ['interval']);              // undefined
 * ```
 */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const folded = fold(name);
  const same = known.find((k) => fold(k) === folded);
  if (same !== undefined) return same;
  if (folded.length < 3) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(folded, fold(k));
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: `prot` is one from `port`. */
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], before[j - 2] + 1);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}
