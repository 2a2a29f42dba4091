/**
 * The consumer process of spec/fault/eventstore-kill.spec.ts: a reliable consumer of an event
 * store that appends each event's `i` to a file (its "work") and only then acks it.
 * Usage: eventstore-consumer.ts <url> <prefix> <out file>
 */
import { appendFileSync } from 'node:fs';
import { EventStore, reliable$ } from '../../lib/eventstore';

async function main(): Promise<void> {
  const [url, prefix, out] = process.argv.slice(2);
  const store = await EventStore.open({ url, prefix });
  const sub = reliable$(store, 'killed', { limit: 100, pollInterval: 20 }).subscribe((r) => {
    appendFileSync(out, `${(r.event.data as { i: number }).i}\n`);
    r.ack();
  });
  process.on('SIGTERM', () => {
    sub.unsubscribe();
    void store.close().then(() => process.exit(0));
  });
}

void main();
