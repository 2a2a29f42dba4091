import type { Event } from '../event';
import { handle, operate } from '../operators/operate';
import { opt } from './options';
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
export const dedupe = defineNode({
  name: 'dedupe',
  role: 'pipeline',
  summary: 'Drops a payload equal to one first seen within the duration (in memory).',
  options: {
    duration: opt.duration('how long a payload is remembered').require(),
    key: opt.fn<(payload: any) => string>('payload => identity string; default the JSON text'),
  },
  positional: ['duration'],
  example: "net.add('once_per_10s', nodes.dedupe({ duration: '10s' }));",
  luaExample: 'tb.create_dedupe("once_per_10s", "10s")',
  build: ({ duration, key }) => {
    const identity = key ?? payloadIdentity;
    return {
      role: 'pipeline',
      kind: 'dedupe',
      create: (ctx) =>
        operate<Event, Event>((out, source) => {
          // Insertion order is time order, so expired entries are always at the front.
          const seen = new Map<string, number>();
          source.subscribe(
            handle(out, {
              next(e) {
                if (e.error) return out.next(e);
                const now = ctx.scheduler.now();
                for (const [k, t] of seen) {
                  if (now - t < duration) break;
                  seen.delete(k);
                }
                let id: string;
                try {
                  id = identity(e.payload);
                } catch (err) {
                  return out.next(ctx.fail(e, err));
                }
                if (seen.has(id)) return ctx.drop(e);
                seen.set(id, now);
                out.next(e);
              },
            }),
          );
        }),
    };
  },
});
