/**
 * Items waiting for a time (windows waiting for the watermark): a min-heap of the distinct
 * due times, each with the items due then in insertion order. Aligned windows (tumbling,
 * hopping) share few due times, so the heap stays small however many keys there are. Items
 * are never removed: an item whose due time changed is skipped by the caller when popped.
 *
 * @example
 * ```ts
 * const q = new DueQueue<string>();
 * q.push(20, 'b'); q.push(10, 'a');
 * q.popUntil(15, (item) => console.log(item)); // a
 * ```
 */
export class DueQueue<T> {
  private readonly heap: number[] = [];
  private readonly buckets = new Map<number, T[]>();

  /** Adds `item` due at `at`. */
  push(at: number, item: T): void {
    const bucket = this.buckets.get(at);
    if (bucket) {
      bucket.push(item);
      return;
    }
    this.buckets.set(at, [item]);
    const h = this.heap;
    let i = h.push(at) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent] <= at) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = at;
  }

  /** The earliest due time, or Infinity when empty. */
  next(): number {
    return this.heap.length ? this.heap[0] : Infinity;
  }

  /** How many distinct due times wait. */
  get size(): number {
    return this.heap.length;
  }

  /**
   * Calls `each(item, at)` for every item due at or before `until`, earliest first (items
   * pushed during the calls for a due time ≤ `until` are handled too); `strict`: only those
   * due before `until`.
   */
  popUntil(until: number, each: (item: T, at: number) => void, strict = false): void {
    while (this.heap.length && (strict ? this.heap[0] < until : this.heap[0] <= until)) {
      const at = this.pop();
      const bucket = this.buckets.get(at)!;
      this.buckets.delete(at);
      for (let i = 0; i < bucket.length; i++) each(bucket[i], at);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.heap.length = 0;
    this.buckets.clear();
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && h[r] < h[l] ? r : l;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
