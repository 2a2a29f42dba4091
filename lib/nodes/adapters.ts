import { Observable, Subject, type OperatorFunction } from 'rxjs';
import { isEvent, type Event } from '../event';
import type { PipelineNode, SourceNode } from './types';
import { from } from './from';

/**
 * Wraps any RxJS operator over payloads as a pipeline node. Error events bypass the operator;
 * each input event is acked as it enters, since an arbitrary operator cannot say which output
 * came from which input (use {@link eventOperator} to keep ack handles flowing).
 *
 * @example
 * ```ts
 * net.add('window_sum', nodes.operator(pipe(bufferCount(10), map((xs) => xs.reduce((a, b) => a + b)))));
 * ```
 */
export function operator<I = any, O = unknown>(op: OperatorFunction<I, O>): PipelineNode {
  return {
    role: 'pipeline',
    kind: 'operator',
    create: (ctx) => (source) =>
      new Observable<Event>((subscriber) => {
        const payloads = new Subject<I>();
        const out = payloads.pipe(op).subscribe({
          next: (v) => subscriber.next(isEvent(v) ? v : ctx.event(v)),
          error: (err) => subscriber.error(err),
          complete: () => subscriber.complete(),
        });
        const input = source.subscribe({
          next(e) {
            if (e.error) return subscriber.next(e);
            ctx.ack(e);
            payloads.next(e.payload as I);
          },
          error: (err) => payloads.error(err),
          complete: () => payloads.complete(),
        });
        return () => {
          input.unsubscribe();
          out.unsubscribe();
        };
      }),
  };
}

/**
 * Wraps an RxJS operator over whole events as a pipeline node: you see metadata, error events
 * and ack handles, and you are responsible for settling what you drop.
 *
 * @example
 * ```ts
 * net.add('only_keyed', nodes.eventOperator(filter((e) => e.meta.key !== undefined)));
 * ```
 */
export function eventOperator(op: OperatorFunction<Event, Event>): PipelineNode {
  return { role: 'pipeline', kind: 'operator', create: () => op };
}

/**
 * Wraps an Observable of payloads (or events) as a source node; `net.add(name, observable)`
 * does the same.
 *
 * @example
 * ```ts
 * net.add('clicks', nodes.observable(fromEvent(button, 'click')));
 * ```
 */
export function observable(obs: Observable<unknown>): SourceNode {
  return from({ items: obs }) as SourceNode;
}
