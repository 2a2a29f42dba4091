/**
 * A growable ring buffer: O(1) push and shift. rxjs' mergeMap/concatMap keep their overflow
 * in an array drained with `shift()`, which is O(n) per item and made a 1M-event async
 * pipeline quadratic (465 s measured); this queue is why ours is linear.
 *
 * @example
 * ```ts
 * const queue = new RingQueue<number>();
 * queue.push(1);
 * queue.shift(); // 1
 * ```
 */
export class RingQueue<T> {
  private items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(capacity = 16) {
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) % this.items.length] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return item;
  }

  clear(): void {
    this.items = new Array(16);
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length];
    this.items = next;
    this.head = 0;
  }
}
