/**
 * Delivery handles: how an event that needs acknowledgement (a message from a bus, an HTTP
 * request) tells its source that it was processed. Built-in nodes settle them: a drop acks,
 * a fan-out acks after every branch has, a sink acks after its work, an error nacks.
 * A handle settles once; later calls are ignored, so "exactly once" holds by construction.
 */

/** The settle side of an event that needs acknowledgement. */
export interface Delivery {
  /** Processing succeeded. */
  ack(): void;
  /** Processing failed; the source may redeliver or dead-letter. */
  nack(reason?: unknown): void;
  /** True once `ack` or `nack` has been called. */
  readonly settled: boolean;
}

/** The outcome a settled delivery reports to its source. */
export type Settlement = { acked: true } | { acked: false; reason: unknown };

/**
 * Creates a delivery handle that calls `onSettle` exactly once.
 *
 * @example
 * ```ts
 * let acks = 0;
 * const d = createDelivery((s) => { if (s.acked) acks++; });
 * d.ack(); d.ack();   // acks === 1: a handle settles once
 * ```
 */
export function createDelivery(onSettle: (s: Settlement) => void): Delivery {
  return new Handle(onSettle);
}

/** The settlement of every ack: one shared object rather than one per ack. */
const ACKED: Settlement = Object.freeze({ acked: true });

class Handle implements Delivery {
  settled = false;
  constructor(private readonly onSettle: (s: Settlement) => void) {}
  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettle(ACKED);
  }
  nack(reason?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.onSettle({ acked: false, reason });
  }
}

/**
 * Splits one delivery into `n` children (a fan-out, a 1→N flat-map). The parent settles when
 * every child has: acked if all acked, otherwise nacked with the first failure. `n = 0` acks
 * the parent at once (nothing left to do).
 *
 * @example
 * ```ts
 * const [a, b] = forkDelivery(parent, 2);
 * a.ack(); // parent still open
 * b.ack(); // parent acked
 * ```
 */
export function forkDelivery(parent: Delivery, n: number): Delivery[] {
  if (n === 0) {
    parent.ack();
    return [];
  }
  if (n === 1) return [parent];
  const fork = new Fork(parent, n);
  const children: Delivery[] = new Array(n);
  for (let i = 0; i < n; i++) children[i] = new ForkChild(fork);
  return children;
}

/** What the children of one {@link forkDelivery} share: how many are open, the first failure. */
class Fork {
  private failure: { reason: unknown } | undefined;
  constructor(
    private readonly parent: Delivery,
    private open: number,
  ) {}

  settle(acked: boolean, reason: unknown): void {
    if (!acked && !this.failure) this.failure = { reason };
    if (--this.open === 0) {
      if (this.failure) this.parent.nack(this.failure.reason);
      else this.parent.ack();
    }
  }
}

/** One child of a fork: one object per branch (a handle and a closure each before). */
class ForkChild implements Delivery {
  settled = false;
  constructor(private readonly fork: Fork) {}
  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.fork.settle(true, undefined);
  }
  nack(reason?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.fork.settle(false, reason);
  }
}

/**
 * Joins several deliveries into one (a buffer that turns N events into one): settling the
 * joined handle settles every part the same way.
 *
 * @example
 * ```ts
 * const joined = joinDeliveries([d1, d2]);
 * joined.ack(); // d1 and d2 acked
 * ```
 */
export function joinDeliveries(parts: readonly Delivery[]): Delivery | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return new Handle((s) => {
    for (const p of parts) {
      if (s.acked) p.ack();
      else p.nack(s.reason);
    }
  });
}
