import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { errorMessage } from '../errors';
import type { Feed } from './feed';

/** What {@link feedLines} did with its input. */
export interface FeedCounts {
  /** Non-empty lines read. */
  lines: number;
  /** Lines that were not JSON (reported, not fed). */
  bad: number;
  /** Events the network acked (fully processed). */
  acked: number;
  /** Events a node failed on (nacked). */
  failed: number;
}

/**
 * Feeds NDJSON lines into a {@link Feed}: each non-empty line is parsed as one JSON event and
 * pushed, with at most `maxInFlight` events unsettled at once (reading pauses until one
 * settles). A line that is not JSON is reported through `onBad` as `name:line: …` and skipped.
 * Resolves when the input ended (the events may still be settling: see `counts`, which keeps
 * counting until they have).
 *
 * @example
 * ```ts
 * const counts = await feedLines(feed, fs.createReadStream('events.ndjson'), 'events.ndjson', 1000, console.error);
 * ```
 */
export async function feedLines(
  feed: Feed,
  input: Readable,
  name: string,
  maxInFlight: number,
  onBad: (message: string) => void,
  counts: FeedCounts = { lines: 0, bad: 0, acked: 0, failed: 0 },
  onFailed?: (message: string) => void,
): Promise<FeedCounts> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let wake: (() => void) | undefined;
  let open = 0;
  for await (const raw of rl) {
    lineNo++;
    const line = raw.trim();
    if (line === '') continue;
    counts.lines++;
    let payload: unknown;
    try {
      payload = JSON.parse(line);
    } catch (e) {
      counts.bad++;
      onBad(`${name}:${lineNo}: not JSON: ${errorMessage(e)}`);
      continue;
    }
    const at = lineNo;
    open++;
    feed.push(payload).then(
      ({ settlement }) => {
        open--;
        if (settlement.acked) counts.acked++;
        else {
          counts.failed++;
          onFailed?.(`${name}:${at}: event failed: ${errorMessage(settlement.reason ?? 'nacked')}`);
        }
        wake?.();
      },
      (e: unknown) => {
        open--;
        counts.failed++;
        onFailed?.(`${name}:${at}: ${errorMessage(e)}`);
        wake?.();
      },
    );
    while (open >= maxInFlight) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }
  return counts;
}
