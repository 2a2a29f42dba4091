/**
 * A set of whole numbers kept as sorted, disjoint, non-adjacent ranges `[lo, hi]`: the source
 * positions a state has absorbed. In-order positions extend the last range (O(1)); a position
 * that arrives late (a redelivery) fills its gap.
 *
 * @example
 * ```ts
 * const r = new RangeSet();
 * r.add(1); r.add(2); r.add(5);
 * r.has(2); // true
 * r.has(3); // false: a gap, e.g. a message not yet redelivered
 * r.toJSON(); // [[1, 2], [5, 5]]
 * ```
 */
export class RangeSet {
  private readonly lo: number[] = [];
  private readonly hi: number[] = [];

  /** From {@link toJSON}'s output. */
  static from(ranges: ReadonlyArray<readonly [number, number]> | undefined): RangeSet {
    const r = new RangeSet();
    for (const [lo, hi] of ranges ?? []) if (Number.isSafeInteger(lo) && Number.isSafeInteger(hi) && lo <= hi) r.addRange(lo, hi);
    return r;
  }

  /** The highest member, or undefined when empty. */
  get max(): number | undefined {
    return this.hi.length ? this.hi[this.hi.length - 1] : undefined;
  }

  /** How many ranges the set holds. */
  get size(): number {
    return this.lo.length;
  }

  /** Index of the last range with lo ≤ n, or -1. */
  private find(n: number): number {
    let a = 0;
    let b = this.lo.length - 1;
    let at = -1;
    while (a <= b) {
      const m = (a + b) >> 1;
      if (this.lo[m] <= n) {
        at = m;
        a = m + 1;
      } else b = m - 1;
    }
    return at;
  }

  has(n: number): boolean {
    const i = this.find(n);
    return i >= 0 && n <= this.hi[i];
  }

  /** Adds `n`; false when it was a member already. */
  add(n: number): boolean {
    const last = this.hi.length - 1;
    // The common case: the next position in order.
    if (last >= 0 && n === this.hi[last] + 1) {
      this.hi[last] = n;
      return true;
    }
    if (last >= 0 && n > this.hi[last] + 1) {
      this.lo.push(n);
      this.hi.push(n);
      return true;
    }
    if (this.has(n)) return false;
    this.addRange(n, n);
    return true;
  }

  private addRange(lo: number, hi: number): void {
    let i = this.find(lo);
    // Merge with the range before when it touches.
    if (i >= 0 && this.hi[i] >= lo - 1) {
      lo = this.lo[i];
      hi = Math.max(hi, this.hi[i]);
    } else i++;
    let j = i;
    while (j < this.lo.length && this.lo[j] <= hi + 1) {
      hi = Math.max(hi, this.hi[j]);
      j++;
    }
    this.lo.splice(i, j - i, lo);
    this.hi.splice(i, j - i, hi);
  }

  /** Treats every number from the lowest member up to `floor` as a member (gaps below it are closed). */
  closeBelow(floor: number): void {
    if (!this.lo.length || this.lo[0] > floor) return;
    this.addRange(this.lo[0], Math.max(floor, this.lo[0]));
  }

  toJSON(): Array<[number, number]> {
    return this.lo.map((lo, i) => [lo, this.hi[i]]);
  }
}
