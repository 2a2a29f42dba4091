import { interval, map } from 'rxjs';
import { nodes, type Network, type SourceNode, type TextOutput } from 'tributary';
import { entities } from './entities';

/** The low-frequency, high-stake customer of the original example (5 % of bets, stake 100). */
export const CUSTOMER_A = '76d17c9e-734b-452c-a5ee-852d1e6261bd';
/** The high-frequency, low-stake customer (the other 95 %, stake 5). */
export const CUSTOMER_B = '66440a98-a92a-4ce0-a5aa-d851a6f288d9';

/** A bet payload as the window inserts it: the bet's columns plus its `selections`. */
export interface BetPayload {
  uuid: string;
  customer_uuid: string;
  stake: number;
  currency: string;
  exchange_rate: number;
  odds: number;
  /** Unix seconds. */
  create_time: number;
  selections: { game_id: number; market_id: string; odds: number }[];
}

/**
 * A small seedable generator (mulberry32): the same seed gives the same bets, so a spec can
 * recompute what the network must print.
 *
 * @example
 * ```ts
 * const rand = seededRandom(42);
 * rand(); // 0.6011037519201636, every time
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The bet generator of the original's `source.go`: customer A with 5 % probability at stake
 * 100, else customer B at stake 5; game 123456 or 654321 at even odds; odds 1.23; one
 * selection. `nowMs` stamps `create_time` (Unix seconds).
 *
 * @example
 * ```ts
 * const next = betGenerator(42);
 * next(1_000); // { uuid: '…', customer_uuid: '66440a98-…', stake: 5, create_time: 1, … }
 * ```
 */
export function betGenerator(seed: number): (nowMs: number) => BetPayload {
  const rand = seededRandom(seed);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return (nowMs) => {
    const customer = rand() < 0.05 ? CUSTOMER_A : CUSTOMER_B;
    const game = rand() < 0.5 ? 123456 : 654321;
    return {
      uuid: `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`,
      customer_uuid: customer,
      stake: customer === CUSTOMER_A ? 100 : 5,
      currency: 'USD',
      exchange_rate: 1,
      odds: 1.23,
      create_time: Math.floor(nowMs / 1000),
      selections: [{ game_id: game, market_id: 'moneyline/home', odds: 1.23 }],
    };
  };
}

/** Options of {@link streamingIngest}. */
export interface IngestOptions {
  /** Seed of the generator; default `TRIBUTARY_EXAMPLE_SEED` or a random one. */
  seed?: number;
  /** Period between bets in ms; default 50. */
  period?: number;
}

/**
 * The `streaming_ingest` source: a bet every 50 ms on the network's scheduler (so it runs
 * under virtual time in specs).
 *
 * @example
 * ```ts
 * net.add('streaming_ingest', streamingIngest({ seed: 42 }));
 * ```
 */
export function streamingIngest(options: IngestOptions = {}): SourceNode {
  const period = options.period ?? 50;
  return {
    role: 'source',
    kind: 'streaming_ingest',
    create: (ctx) => {
      const next = betGenerator(options.seed ?? defaultSeed());
      return interval(period, ctx.scheduler).pipe(map(() => ctx.event(next(ctx.scheduler.now()))));
    },
  };
}

function defaultSeed(): number {
  const env = process.env.TRIBUTARY_EXAMPLE_SEED;
  return env !== undefined && env !== '' ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

/** What `tributary run --require` hands a host module (see lib/cli/hosts.ts). */
export interface AdvancedHost {
  network: Network;
  windows: { entities: unknown[] };
  /** Set by `tributary test` (the case's seed): the bets are then the same on every run. */
  seed?: number;
}

/**
 * The host module of the advanced example (the original's `main.go`): registers the `Bet`
 * and `Selection` entities with the window database, and adds the `streaming_ingest` source
 * (seeded by `host.seed` under `tributary test`) and the `liability_printer` sink the Lua
 * scripts link up.
 *
 * @example
 * ```sh
 * npx tributary run examples/advanced/network.lua --require examples/advanced/host.ts
 * npx tributary run examples/advanced/network.lua --require examples/advanced/host.ts --db mysql://root@127.0.0.1:3306/test
 * ```
 */
export function setup(host: AdvancedHost, options: IngestOptions & { output?: TextOutput } = {}): void {
  host.windows.entities.push(...entities);
  host.network.add('streaming_ingest', streamingIngest({ ...options, seed: options.seed ?? host.seed }));
  host.network.add('liability_printer', nodes.printer({ output: options.output }));
}
