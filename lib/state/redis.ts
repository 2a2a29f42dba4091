import type { Redis } from 'ioredis';
import { errorMessage, TributaryError } from '../errors';
import { redactUrlSecrets, shownUrl } from '../util/redact';
import type { BatchOp, KeyValueStore, Versioned } from './types';

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /**
   * The clock TTLs are measured on (default `Date.now`). Expiry times are stored with each entry
   * and compared with this clock; with the default clock keys also get a real `PEXPIRE` so Redis
   * frees them.
   */
  now?: () => number;
  /** Prefix of every Redis key the store writes (default `tributary:state:`, or `?prefix=` in the URL). */
  prefix?: string;
}

// Shared Lua: the live version of a hash (0 when absent or expired) and a write of one entry.
const LIB = `
local function live(k, now)
  local r = redis.call('HMGET', k, 'ver', 'exp')
  if not r[1] then return 0 end
  if r[2] and tonumber(r[2]) <= now then return 0 end
  return tonumber(r[1])
end
local function write(k, idx, member, v, exp, pttl, ver)
  redis.call('DEL', k)
  if exp ~= '' then redis.call('HSET', k, 'v', v, 'ver', ver, 'exp', exp) else redis.call('HSET', k, 'v', v, 'ver', ver) end
  if pttl ~= '' then redis.call('PEXPIRE', k, pttl) end
  redis.call('ZADD', idx, 0, member)
end
`;

// KEYS: entry, index. ARGV: member, value, expiry ('' none), pexpire ('' none), now, expected version (-1: any).
const SET = `${LIB}
local cur = live(KEYS[1], tonumber(ARGV[5]))
local want = tonumber(ARGV[6])
if want >= 0 and cur ~= want then return 0 end
write(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], cur + 1)
return 1
`;

// KEYS: index, entries…  ARGV: now, JSON ops [{o, i (KEYS index), m, v, e, t, ver}].
const BATCH = `${LIB}
local now = tonumber(ARGV[1])
local ops = cjson.decode(ARGV[2])
for _, o in ipairs(ops) do
  if o.o == 'check' and live(KEYS[o.i], now) ~= o.ver then return 0 end
end
for _, o in ipairs(ops) do
  if o.o == 'put' then
    write(KEYS[o.i], KEYS[1], o.m, o.v, o.e, o.t, live(KEYS[o.i], now) + 1)
  elseif o.o == 'delete' then
    redis.call('DEL', KEYS[o.i])
    redis.call('ZREM', KEYS[1], o.m)
  end
end
return 1
`;

type Scripted = Redis & {
  tbSet(entry: string, index: string, ...args: Array<string | number>): Promise<number>;
  tbBatch(numKeys: number, ...args: Array<string | number>): Promise<number>;
};

const PAGE = 500;

/**
 * Opens a {@link KeyValueStore} on Redis (`redis://…`, `rediss://…`; `ioredis`). Each entry is
 * a hash (`v` JSON value, `ver` version, `exp` expiry time) under `<prefix>k:<key>`, and a sorted
 * set `<prefix>index` lists the keys for `list`. Compare-and-set and `batch` are Lua scripts, so
 * each runs atomically on the server; TTLs are stored and compared with the store's clock, and
 * with the real clock also set as `PEXPIRE`.
 *
 * @example
 * ```ts
 * const kv = await openRedisStore('redis://127.0.0.1:6379?prefix=myapp:state:');
 * await kv.put('session:42', { step: 3 }, { ttlMs: 60_000 });
 * await kv.close();
 * ```
 */
export async function openRedisStore(url: string, options: RedisStoreOptions = {}): Promise<KeyValueStore> {
  const shown = shownUrl(url);
  const { base, prefix: urlPrefix } = takePrefix(url);
  const prefix = options.prefix ?? urlPrefix ?? 'tributary:state:';
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use
  const IORedis = (require('ioredis') as typeof import('ioredis')).default;
  let opened = false;
  const client = new IORedis(base, {
    lazyConnect: true,
    maxRetriesPerRequest: 3,
    // No retries before the first connection: a wrong address is an error at open, not a hang.
    retryStrategy: (times) => (opened ? Math.min(times * 200, 2000) : null),
  }) as Scripted;
  client.on('error', () => undefined); // failures surface as rejected commands, with the URL redacted
  try {
    await client.connect();
    opened = true;
  } catch (e) {
    client.disconnect();
    throw new TributaryError('BAD_OPTION', `state store: cannot open '${shown}': ${redactUrlSecrets(url, errorMessage(e))}`, {
      cause: e,
    });
  }
  client.defineCommand('tbSet', { numberOfKeys: 2, lua: SET });
  client.defineCommand('tbBatch', { lua: BATCH });
  return new RedisStore(client, prefix, options.now, shown, url);
}

function takePrefix(url: string): { base: string; prefix?: string } {
  const q = url.indexOf('?');
  if (q < 0) return { base: url };
  let prefix: string | undefined;
  const rest = url
    .slice(q + 1)
    .split('&')
    .filter((kv) => {
      const [k, v = ''] = kv.split('=');
      if (k !== 'prefix') return true;
      prefix = decodeURIComponent(v);
      return false;
    });
  return { base: url.slice(0, q) + (rest.length ? `?${rest.join('&')}` : ''), prefix };
}

class RedisStore implements KeyValueStore {
  private readonly now: () => number;
  private readonly realClock: boolean;
  private readonly index: string;

  constructor(
    private readonly client: Scripted,
    private readonly prefix: string,
    now: (() => number) | undefined,
    readonly url: string,
    private readonly rawUrl: string,
  ) {
    this.now = now ?? Date.now;
    this.realClock = now === undefined;
    this.index = `${prefix}index`;
  }

  private entry(key: string): string {
    return `${this.prefix}k:${key}`;
  }

  private fail(what: string, e: unknown): never {
    throw new TributaryError('STATE', `state store '${this.url}': ${what} failed: ${redactUrlSecrets(this.rawUrl, errorMessage(e))}`, {
      cause: e,
    });
  }

  private ttlArgs(ttlMs: number | undefined): [string, string] {
    if (ttlMs === undefined) return ['', ''];
    return [String(this.now() + ttlMs), this.realClock ? String(Math.max(1, Math.ceil(ttlMs))) : ''];
  }

  private decode<T>(r: Array<string | null>): Versioned<T> | undefined {
    const [v, ver, exp] = r;
    if (v === null || ver === null) return undefined;
    if (exp !== null && Number(exp) <= this.now()) return undefined;
    if (Number(ver) <= 0) return undefined;
    return { value: JSON.parse(v) as T, version: Number(ver) };
  }

  async get<T = unknown>(key: string): Promise<Versioned<T> | undefined> {
    try {
      return this.decode<T>(await this.client.hmget(this.entry(key), 'v', 'ver', 'exp'));
    } catch (e) {
      return this.fail(`get '${key}'`, e);
    }
  }

  private async set(key: string, expected: number, value: unknown, ttlMs?: number): Promise<boolean> {
    const [exp, pttl] = this.ttlArgs(ttlMs);
    return (await this.client.tbSet(this.entry(key), this.index, key, json(value), exp, pttl, this.now(), expected)) === 1;
  }

  async put(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void> {
    try {
      await this.set(key, -1, value, options?.ttlMs);
    } catch (e) {
      this.fail(`put '${key}'`, e);
    }
  }

  async compareAndSet(key: string, expectedVersion: number, value: unknown, options?: { ttlMs?: number }): Promise<boolean> {
    try {
      return await this.set(key, expectedVersion, value, options?.ttlMs);
    } catch (e) {
      return this.fail(`compareAndSet '${key}'`, e);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.multi().del(this.entry(key)).zrem(this.index, key).exec();
    } catch (e) {
      this.fail(`delete '${key}'`, e);
    }
  }

  async *list<T = unknown>(prefix: string): AsyncIterable<[string, Versioned<T>]> {
    let from = `[${prefix}`;
    for (;;) {
      let members: string[];
      let entries: Array<Array<string | null>>;
      try {
        // The index sorts bytewise: the prefix's keys are contiguous from `[prefix`.
        members = await this.client.zrangebylex(this.index, from, '+', 'LIMIT', 0, PAGE);
        const p = this.client.pipeline();
        for (const m of members) p.hmget(this.entry(m), 'v', 'ver', 'exp');
        const res = (await p.exec()) ?? [];
        entries = res.map(([err, r]) => {
          if (err) throw err;
          return r as Array<string | null>;
        });
      } catch (e) {
        return this.fail(`list '${prefix}'`, e);
      }
      for (let i = 0; i < members.length; i++) {
        if (!members[i].startsWith(prefix)) return;
        const v = this.decode<T>(entries[i]);
        if (v) yield [members[i], v];
        else if (entries[i][0] === null) await this.client.zrem(this.index, members[i]).catch(() => undefined); // freed by PEXPIRE
      }
      if (members.length < PAGE) return;
      from = `(${members[members.length - 1]}`;
    }
  }

  async batch(ops: BatchOp[]): Promise<boolean> {
    if (ops.length === 0) return true;
    const keys: string[] = [this.index];
    const slot = new Map<string, number>();
    const encoded = ops.map((o) => {
      let i = slot.get(o.key);
      if (i === undefined) {
        keys.push(this.entry(o.key));
        i = keys.length;
        slot.set(o.key, i);
      }
      if (o.op === 'check') return { o: 'check', i, ver: o.version };
      if (o.op === 'delete') return { o: 'delete', i, m: o.key };
      const [e, t] = this.ttlArgs(o.ttlMs);
      return { o: 'put', i, m: o.key, v: json(o.value), e, t };
    });
    try {
      return (await this.client.tbBatch(keys.length, ...keys, this.now(), JSON.stringify(encoded))) === 1;
    } catch (e) {
      return this.fail('batch', e);
    }
  }

  async close(): Promise<void> {
    if (this.client.status === 'end') return;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}
