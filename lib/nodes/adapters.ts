import { Subject, type Observable, type OperatorFunction } from 'rxjs';
import { isEvent, type Event } from '../event';
import { handle, operate } from '../operators/operate';
import { from } from './from';
import type { PipelineNode, SourceNode } from './types';

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
    create: (ctx) =>
      operate<Event, Event>((out, source) => {
        const payloads = new Subject<I>();
        // The operator's output ends the node's output (error or completion passes on).
        payloads.pipe(op).subscribe(handle(out, { next: (v) => out.next(isEvent(v) ? v : ctx.event(v)) }));
        source.subscribe(
          handle(out, {
            next(e) {
              if (e.error) return out.next(e);
              ctx.ack(e);
              payloads.next(e.payload as I);
            },
            error: (err) => payloads.error(err),
            complete: () => payloads.complete(),
          }),
        );
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
