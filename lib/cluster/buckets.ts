// How a group's NATS KV buckets (the group's coordination bucket, its deployed scripts) are
// opened: created with the replica count asked for, and an existing one checked against it
// (docs/scale-out.md, "Replicated buckets").
import type { KV, KvOptions, KvStatus, NatsConnection } from 'nats';
import { TributaryError, errorMessage } from '../errors';

/** The most replicas a NATS JetStream stream (a KV bucket is one) may have. */
export const MAX_REPLICAS = 5;

/**
 * Checks a replica count for a group's buckets: a whole number from 1 to {@link MAX_REPLICAS}.
 * `name` is the option or flag named in the error.
 *
 * @example
 * ```ts
 * checkReplicas(3, "option 'replicas'"); // 3
 * checkReplicas(6, '--replicas');        // throws: --replicas must be a whole number from 1 to 5, got 6
 * ```
 */
export function checkReplicas(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPLICAS) {
    throw new TributaryError(
      'BAD_OPTION',
      `${name} must be a whole number from 1 to ${MAX_REPLICAS} (copies of the group's NATS buckets), got ${typeof value === 'string' ? `'${value}'` : String(value)}`,
    );
  }
  return value;
}

/**
 * Opens a group's KV bucket, creating it with `replicas` copies (1 when not given) when it is
 * missing. An existing bucket is used as it is when `replicas` is not given; when it is given,
 * the bucket must have that many, or this rejects with an error naming the bucket and both
 * counts (a bucket is not re-scaled behind the back of the group's other members). On a NATS
 * server that is not part of a cluster, asking for more than one replica rejects with an error
 * saying so. Resolves to the bucket and its status (read once).
 *
 * @example
 * ```ts
 * const { kv, status } = await openGroupKv(nc, 'tributary_group_bets', { ttl: 10_000, history: 1 }, 3);
 * status.replicas; // 3
 * ```
 */
export async function openGroupKv(
  nc: NatsConnection,
  bucket: string,
  options: Partial<KvOptions>,
  replicas?: number,
): Promise<{ kv: KV; status: KvStatus }> {
  let kv: KV;
  try {
    kv = await nc.jetstream().views.kv(bucket, { ...options, replicas: replicas ?? 1 });
  } catch (e) {
    const msg = errorMessage(e);
    if (replicas !== undefined && replicas > 1 && /non-clustered|insufficient resources/i.test(msg)) {
      throw new TributaryError(
        'BAD_OPTION',
        `bucket '${bucket}' cannot be made with ${replicas} replicas: that needs a NATS JetStream cluster of at least ${replicas} servers (NATS says: ${msg})`,
        { cause: e },
      );
    }
    throw e;
  }
  const status = await kv.status();
  if (replicas !== undefined && status.replicas !== replicas) {
    throw new TributaryError(
      'BAD_OPTION',
      `bucket '${bucket}' exists with ${plural(status.replicas)}, but ${plural(replicas)} ${replicas === 1 ? 'was' : 'were'} asked for: ask for ${status.replicas} (or leave the count out to use the bucket as it is), or change the bucket first (nats stream edit KV_${bucket} --replicas ${replicas})`,
    );
  }
  return { kv, status };
}

function plural(n: number): string {
  return `${n} replica${n === 1 ? '' : 's'}`;
}
