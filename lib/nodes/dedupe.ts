import { Observable } from 'rxjs';
import type { Duration } from '../duration';
import { defineNode } from './registry';

/**
 * The default identity: the JSON text, tagged by type. Printed text alone (formatPayload)
 * made the number 1, the string "1" and the bytes "1" one payload and dropped the later ones.
 */
function payloadIdentity(payload: unknown): string {
  if (typeof payload === 'string') return `s${payload}`;
  if (typeof payload === 'number') return `n${payload}`;
  if (payload instanceof Uint8Array) return `b${Buffer.from(payload).toString('base64')}`;
  if (payload === undefined) return 'u';
  return `j${JSON.stringify(payload)}`;
}

/** Options of {@link dedupe}. */
export interface DedupeOptions {
  /** How long a payload is remembered. */
  duration: Duration;
  /** What makes two payloads the same; default their JSON text. */
  key?: (payload: any) => string;
}

/**
 * Pipeline dropping (and acking) a payload equal to one first seen less than `duration` ago,
 * in memory. For suppression that survives a restart use the SQL-backed `filter`.
 *
 * @example
 * ```ts
 * net.add('once_per_10s', nodes.dedupe({ duration: '10s' }));
 * net.add('once_per_customer', nodes.dedupe({ duration: '1m', key: (a) => a.customer_uuid }));
 * ```
 */
export const dedupe = defineNode<DedupeOptions, { duration: number; key?: (payload: unknown) => string }>({
  name: 'dedupe',
  role: 'pipeline',
  summary: 'Drops a payload equal to one first seen within the duration (in memory).',
  options: {
    duration: { type: 'duration', required: true, description: 'how long a payload is remembered' },
    key: { type: 'function', description: 'payload => identity string; default the JSON text' },
  },
  positional: ['duration'],
  example: "net.add('once_per_10s', nodes.dedupe({ duration: '10s' }));",
  luaExample: 'tb.create_dedupe("once_per_10s", "10s")',
  build: ({ duration, key }) => {
    const identity = key ?? payloadIdentity;
    return {
      role: 'pipeline',
      kind: 'dedupe',
      create: (ctx) => (source) =>
        new Observable((subscriber) => {
          // Insertion order is time order, so expired entries are always at the front.
          const seen = new Map<string, number>();
          return source.subscribe({
            next(e) {
              if (e.error) return subscriber.next(e);
              const now = ctx.scheduler.now();
              for (const [k, t] of seen) {
                if (now - t < duration) break;
                seen.delete(k);
              }
              let id: string;
              try {
                id = identity(e.payload);
              } catch (err) {
                return subscriber.next(ctx.fail(e, err));
              }
              if (seen.has(id)) return ctx.drop(e);
              seen.set(id, now);
              subscriber.next(e);
            },
            error: (err) => subscriber.error(err),
            complete: () => subscriber.complete(),
          });
        }),
    };
  },
});
