// A source that says how far it is: the progress line of `tributary run` shows the
// percentage read and an ETA from it, and net.progress() returns it.
import { Observable } from 'rxjs';
import type { Event, SourceNode } from 'tributary';

export function chunkedSource(chunks: readonly string[]): SourceNode {
  return {
    role: 'source',
    kind: 'chunks',
    create: (ctx) => {
      const total = chunks.reduce((sum, c) => sum + c.length, 0);
      let read = 0;
      ctx.reportProgress(() => ({ read, total, lag: total - read, unit: 'bytes' }));
      return new Observable<Event>((subscriber) => {
        for (const chunk of chunks) {
          read += chunk.length;
          subscriber.next(ctx.event(chunk));
        }
        subscriber.complete();
      });
    },
  };
}
