import { appendFileSync } from 'node:fs';

/** What a fault spec measured: events sent, received (unique), lost and duplicated. */
export interface FaultCounts {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  /** The in-flight cap duplicates are bounded by, where one applies. */
  cap?: number;
  /** One line on how the fault was made. */
  fault: string;
}

/**
 * Prints a fault spec's counts, and appends them as one JSON line to the file named by
 * TRIBUTARY_FAULT_REPORT (`.ci/run` sets it and prints the table at the end of the step).
 */
export function reportFault(name: string, c: FaultCounts): void {
  const cap = c.cap === undefined ? '' : ` (in-flight cap ${c.cap})`;
  console.log(`${name}: ${c.sent} sent, ${c.received} received, ${c.lost} lost, ${c.duplicates} duplicates${cap}; ${c.fault}`);
  const file = process.env.TRIBUTARY_FAULT_REPORT;
  if (file) appendFileSync(file, JSON.stringify({ name, ...c }) + '\n');
}

/** Counts of a delivery log: unique ids received, ids lost out of 1..n (or the given ids), duplicates. */
export function tally(expected: readonly number[], seen: readonly number[]): { received: number; lost: number[]; duplicates: number } {
  const unique = new Set(seen);
  return { received: unique.size, lost: expected.filter((i) => !unique.has(i)), duplicates: seen.length - unique.size };
}
