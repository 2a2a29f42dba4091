import { Observable } from 'rxjs';
import { messageOf } from '../errors';
import type { Event } from '../../event';
import { rejectErrorEvent } from '../../nodes/stage';
import type { NodeContext } from '../../nodes/types';

/** Where a batching writer puts its text: resolves once the text is written. */
export interface LineTarget {
  /** Writes the lines (each ending in a newline) in order. */
  write(lines: string[]): Promise<void>;
  /** Called once the input completed and everything was written. */
  close(): Promise<void>;
}

/**
 * A sink operator that formats each event into a line and writes whatever accumulated while
 * the previous write was running in one go, acking those events once their write succeeded
 * (nacking them if it failed). A payload that cannot be formatted is nacked on its own.
 * Completes after the last write and `target.close()`.
 *
 * @example
 * ```ts
 * create: (ctx) => batchedLineSink(ctx, ndjsonLine, async () => ({ write: (lines) => append(lines.join('')), close: async () => {} }))
 * ```
 */
export function batchedLineSink(
  ctx: NodeContext,
  format: (payload: unknown) => string,
  open: () => Promise<LineTarget>,
): (source: Observable<Event>) => Observable<never> {
  return (source) =>
    new Observable<never>((subscriber) => {
      let queue: { event: Event; line: string }[] = [];
      let writing = false;
      let inputDone = false;
      let closed = false;
      let target: Promise<LineTarget> | undefined;
      const finish = async () => {
        if (closed) return;
        closed = true;
        try {
          if (target) await (await target).close();
        } catch (err) {
          ctx.logger.error(`node '${ctx.name}': closing: ${messageOf(err)}`);
        }
        subscriber.complete();
      };
      const pump = async () => {
        if (writing) return;
        writing = true;
        while (queue.length > 0) {
          const batch = queue;
          queue = [];
          try {
            target ??= open();
            await (await target).write(batch.map((b) => b.line));
            for (const b of batch) ctx.ack(b.event);
          } catch (err) {
            target = undefined;
            ctx.stats.errors += batch.length;
            ctx.logger.error(`node '${ctx.name}': ${messageOf(err)} (${batch.length} events nacked)`);
            for (const b of batch) ctx.nack(b.event, err);
          }
        }
        writing = false;
        if (inputDone) await finish();
      };
      const sub = source.subscribe({
        next(event) {
          if (event.error) return rejectErrorEvent(ctx, event);
          let line: string;
          try {
            line = format(event.payload);
          } catch (err) {
            ctx.stats.errors++;
            ctx.nack(event, err);
            ctx.logger.error(`node '${ctx.name}': cannot write event ${event.meta.id}: ${messageOf(err)}`);
            return;
          }
          queue.push({ event, line: line + '\n' });
          void pump();
        },
        error: (err) => subscriber.error(err),
        complete() {
          inputDone = true;
          if (!writing) void finish();
        },
      });
      return () => sub.unsubscribe();
    });
}

/**
 * A payload as one NDJSON line.
 *
 * @example
 * ```ts
 * ndjsonLine({ a: 1 }); // '{"a":1}'
 * ```
 */
export function ndjsonLine(payload: unknown): string {
  const text = payload instanceof Uint8Array ? JSON.stringify(new TextDecoder().decode(payload)) : JSON.stringify(payload);
  if (text === undefined) throw new Error(`a ${typeof payload} cannot be written as JSON`);
  return text;
}
