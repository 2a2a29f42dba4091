import { errorMessage } from '../../errors';
import { Observable } from 'rxjs';
import type { Event } from '../../event';
import { CUT_OFF, rejectErrorEvent } from '../../nodes/stage';
import type { NodeContext } from '../../nodes/types';

/** Where a batching writer puts its text: resolves once the text is written. */
export interface LineTarget {
  /** Writes the lines (each ending in a newline) in order. */
  write(lines: string[]): Promise<void>;
  /** Called once the input completed and everything was written. */
  close(): Promise<void>;
}

/**
 * Thrown by a {@link LineTarget} opener when the target can never be opened (a file whose
 * path cannot be created): {@link batchedLineSink} then nacks every event it holds with it
 * and fails the node, so the network stops with this message instead of retrying per batch.
 *
 * @example
 * ```ts
 * if (e.code === 'ENOTDIR') throw new TargetUnavailableError(`cannot create ${file}: ${e.message}`);
 * ```
 */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
}

/**
 * A sink operator that formats each event into a line and writes whatever accumulated while
 * the previous write was running in one go, acking those events once their write succeeded
 * (nacking them if it failed, and closing the target so the next write reopens it). A
 * payload that cannot be formatted is nacked on its own. Completes after the last write and
 * `target.close()`. An opener throwing a {@link TargetUnavailableError} fails the node: the
 * batch and everything queued are nacked with that error and the stream errors (the network
 * stops, reporting it). Unsubscribed early (the network cut off), it writes nothing more: events
 * still queued are nacked with `CUT_OFF` and the target is closed after the write in progress.
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
      let cutOff = false;
      let target: Promise<LineTarget> | undefined;
      const closeTarget = (t: Promise<LineTarget> | undefined) => {
        void t?.then((x) => x.close()).catch(() => undefined);
      };
      const finish = async () => {
        if (closed) return;
        closed = true;
        try {
          if (target) await (await target).close();
        } catch (err) {
          ctx.logger.error(`node '${ctx.name}': closing: ${errorMessage(err)}`);
        }
        subscriber.complete();
      };
      const pump = async () => {
        if (writing) return;
        writing = true;
        while (queue.length > 0 && !cutOff) {
          const batch = queue;
          queue = [];
          try {
            target ??= open();
            await (await target).write(batch.map((b) => b.line));
            for (const b of batch) ctx.ack(b.event);
          } catch (err) {
            if (err instanceof TargetUnavailableError) {
              // Nothing will ever be written: give every event back and fail the node.
              const held = batch.concat(queue);
              queue = [];
              cutOff = true;
              writing = false;
              target = undefined;
              ctx.stats.errors += held.length;
              for (const b of held) ctx.nack(b.event, err);
              subscriber.error(err);
              return;
            }
            // Close the handle of the failed write; the next batch opens a fresh one.
            closeTarget(target);
            target = undefined;
            ctx.stats.errors += batch.length;
            ctx.logger.error(`node '${ctx.name}': ${errorMessage(err)} (${batch.length} events nacked)`);
            for (const b of batch) ctx.nack(b.event, err);
          }
        }
        writing = false;
        if (cutOff) {
          closeTarget(target);
          target = undefined;
          return;
        }
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
            ctx.logger.error(`node '${ctx.name}': cannot write event ${event.meta.id}: ${errorMessage(err)}`);
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
      return () => {
        sub.unsubscribe();
        if (closed) return;
        // Cut off (or stopped) before the input completed: write nothing more, nack what is
        // still queued, and close the handle once the write in progress (if any) is over.
        cutOff = true;
        for (const b of queue) ctx.nack(b.event, CUT_OFF);
        queue = [];
        if (!writing) {
          closeTarget(target);
          target = undefined;
        }
      };
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
