// What every agglo process node shares: options that are the process's protobuf-JSON message
// (checked field by field, nested messages too), the per-process `retryStrategy`, and one
// runner that calls the process for each event's payload in order, retrying failures with
// doubling back-off on the network's scheduler.
import type { SchedulerLike } from 'rxjs';
import { errorMessage, TributaryError } from '../errors';
import { withPayload, type Event } from '../event';
import { Field, opt, type OptionSpec } from '../nodes/options';
import { functionStage, payloadOf } from '../nodes/stage';
import type { NodeContext, PipelineNode } from '../nodes/types';
import { RETRY_STRATEGY, readMessage, type FieldDescriptor, type MessageDescriptor, type ProtoMessage } from './proto';

/** A JSON object: what agglo processes take and give. */
export type AggloMap = Record<string, unknown>;

/** What a process returns for an event: its new payload, or {@link STOP} (continue's false condition). */
export const STOP: unique symbol = Symbol('agglo.stop');

/** One process applied to one payload (the payload is never mutated; return a new one). */
export type ProcessFn = (payload: AggloMap, event: Event) => AggloMap | typeof STOP | Promise<AggloMap | typeof STOP>;

/** `retryStrategy` as read: attempts after the first, and the first back-off (doubling). */
export interface RetryStrategy {
  numRetries: number;
  initialBackOffMs: number;
}

/** The option every process kind takes besides its message's fields. */
export const RETRY_FIELD: FieldDescriptor = {
  type: { kind: 'message', message: () => RETRY_STRATEGY },
  description:
    "agglo's per-process RetryStrategy: { numRetries, initialBackOffMs }; a failure is retried numRetries times, waiting initialBackOffMs, then twice that, …",
};

/**
 * The option schema of a process kind from its message: one option per field (nested
 * messages as objects, lists as lists), so `resolveOptions` names unknown options with a
 * suggestion; {@link readProcessOptions} then checks everything inside.
 *
 * @example
 * ```ts
 * const options = protoOptions(CONTINUATION_OPTIONS, { name: 'process name (for errors)' });
 * ```
 */
export function protoOptions(
  desc: MessageDescriptor,
  docs: Readonly<Record<string, string>> = {},
): Record<string, Field<unknown, unknown>> {
  const out: Record<string, Field<unknown, unknown>> = {};
  for (const [key, f] of Object.entries(desc.fields)) {
    const description = docs[key] ?? f.description ?? `${desc.name}.${key}`;
    let field: Field<any, any>;
    // Strings and booleans are checked here; messages (which may come as an empty Lua table),
    // numbers (int64 may be a decimal string) and enums (a name or a number) by the proto reader.
    if (f.repeated) field = opt.array(description);
    else if (f.type.kind === 'string') field = opt.string(description);
    else if (f.type.kind === 'bool') field = opt.boolean(description);
    else field = opt.any(description);
    out[key] = field as Field<unknown, unknown>;
  }
  return out;
}

/**
 * Reads a process kind's options as its message (plus extension fields) in protobuf-JSON:
 * errors name the kind, the process name when given, and the field path.
 *
 * @example
 * ```ts
 * const msg = readProcessOptions('continue', CONTINUATION_OPTIONS, options);
 * ```
 */
export function readProcessOptions(kind: string, desc: MessageDescriptor, options: Record<string, unknown>): ProtoMessage {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined) raw[k] = v;
  const name = typeof raw.name === 'string' && raw.name ? ` '${raw.name}'` : '';
  const where = `${kind}${name}`;
  try {
    return readMessage(desc, raw, '');
  } catch (e) {
    throw new TributaryError('BAD_OPTION', `${where}: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * Prefixes compile errors (a bad condition, a bad regex) with the kind and process name.
 *
 * @example
 * ```ts
 * const cond = located('continue', msg, () => compileCondition(msg.condition, 'condition'));
 * ```
 */
export function located<T>(kind: string, msg: ProtoMessage, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const name = typeof msg.name === 'string' && msg.name ? ` '${msg.name}'` : '';
    throw new TributaryError('BAD_OPTION', `${kind}${name}: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * Extends a message with extra (Tributary) fields, for a kind's options.
 *
 * @example
 * ```ts
 * const CONTINUATION_OPTIONS = withFields(CONTINUATION, { retryStrategy: RETRY_FIELD });
 * ```
 */
export function withFields(desc: MessageDescriptor, fields: Record<string, FieldDescriptor>): MessageDescriptor {
  return { name: desc.name, fields: { ...desc.fields, ...fields } };
}

/**
 * Reads `retryStrategy` from a process kind's options message (none → no retries).
 *
 * @example
 * ```ts
 * retryOf({ retryStrategy: { numRetries: 2, initialBackOffMs: 100 } }); // { numRetries: 2, initialBackOffMs: 100 }
 * ```
 */
export function retryOf(msg: ProtoMessage): RetryStrategy | undefined {
  const r = msg.retryStrategy as ProtoMessage | undefined;
  if (!r) return undefined;
  const numRetries = r.numRetries as number;
  const initialBackOffMs = r.initialBackOffMs as number;
  if (numRetries < 0) throw new TributaryError('BAD_OPTION', `retryStrategy.numRetries must be at least 0, got ${numRetries}`);
  if (initialBackOffMs < 0)
    throw new TributaryError('BAD_OPTION', `retryStrategy.initialBackOffMs must be at least 0, got ${initialBackOffMs}`);
  return numRetries > 0 ? { numRetries, initialBackOffMs } : undefined;
}

function wait(scheduler: SchedulerLike, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(() => resolve(), ms));
}

/**
 * Wraps a process so failures (throws, rejections) are retried `numRetries` times, the waits
 * doubling from `initialBackOffMs`, on `scheduler` (virtual time in tests). The last failure
 * is thrown with the number of attempts.
 *
 * @example
 * ```ts
 * const run = withRetry(fn, { numRetries: 3, initialBackOffMs: 100 }, ctx.scheduler); // waits 100, 200, 400
 * ```
 */
export function withRetry(fn: ProcessFn, retry: RetryStrategy | undefined, scheduler: SchedulerLike): ProcessFn {
  if (!retry) return fn;
  return async (payload, event) => {
    let delay = retry.initialBackOffMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(payload, event);
      } catch (err) {
        if (attempt >= retry.numRetries) {
          throw new Error(`${errorMessage(err)} (after ${attempt + 1} attempts)`, { cause: err });
        }
        await wait(scheduler, delay);
        delay *= 2;
      }
    }
  };
}

/**
 * Checks that a payload is a JSON object, as agglo's processes need.
 *
 * @example
 * ```ts
 * asMap({ a: 1 }); // { a: 1 }
 * asMap([1]);      // throws "agglo processes take JSON objects, got a list"
 * ```
 */
export function asMap(payload: unknown): AggloMap {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || payload instanceof Uint8Array) {
    const what = payload === null ? 'null' : Array.isArray(payload) ? 'a list' : payload instanceof Uint8Array ? 'bytes' : typeof payload;
    throw new Error(`agglo processes take JSON objects, got ${what}`);
  }
  return payload as AggloMap;
}

/**
 * A pipeline node running one process per event, in order: the result replaces the payload;
 * {@link STOP} drops the event quietly (acked, counted in `dropped`); a failure (after the
 * retries) becomes an error event naming the node.
 *
 * @example
 * ```ts
 * build: (o) => processNode('continue', retryOf(msg), () => (p) => (cond.test(p) ? p : STOP)),
 * ```
 */
export function processNode(kind: string, retry: RetryStrategy | undefined, setup: (ctx: NodeContext) => ProcessFn): PipelineNode {
  return {
    role: 'pipeline',
    kind,
    create: (ctx) => {
      const fn = withRetry(setup(ctx), retry, ctx.scheduler);
      return functionStage(
        ctx,
        (payload: unknown, event: Event) => fn(asMap(payload), event),
        1,
        payloadOf,
        (e, result, emit) => {
          if (result === STOP) ctx.drop(e);
          else emit(withPayload(e, result));
        },
      );
    },
  };
}

/**
 * A deep copy of a JSON value (maps and lists copied, scalars shared).
 *
 * @example
 * ```ts
 * const out = deepCopy(payload); out.x = 1; // payload unchanged
 * ```
 */
export function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deepCopy(v);
    return out as T;
  }
  return value;
}

/** Re-export for kinds declaring extra plain options. */
export type { OptionSpec };
