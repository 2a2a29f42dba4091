import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from 'nats';
import { openStateStore } from '../../lib/state/open';
import { reportFault } from './counts';
import { BIN, BUILT, clearStore, compareSums, redisWithPrefix, runCounted, type CountedExit } from './group-children';

/**
 * Issue 13, checkpoint fault test: `tributary run` reads a JetStream stream (20k events over
 * 200 keys) into a keyed sum (`stateful`, checkpointed to a state store) and a stdout sink; it is
 * killed with SIGKILL at a random point and started again on the same store and durable
 * consumer. The per-key state must equal the truth exactly: no event lost, none counted twice
 * (the state holds each key's count and the sum of its event numbers, so a loss and a double
 * count cannot cancel out). The sink sees every event at least once. The real CLI
 * (bin/tributary.js, the built bundle) and the shared NATS server on a fresh stream; the server
 * itself is never touched.
 */
const N = 20_000;
const KEYS = 200;

interface Store {
  name: string;
  /** Variables the case needs besides TRIBUTARY_NATS_URL. */
  variables: string[];
  url(dir: string, tag: string): string;
}

const stores: Store[] = [
  { name: 'SQLite', variables: [], url: (dir) => `sqlite:${path.join(dir, 'state.db')}` },
  {
    name: 'Redis',
    variables: ['TRIBUTARY_REDIS_URL'],
    url: (_dir, tag) => redisWithPrefix(process.env.TRIBUTARY_REDIS_URL!, `state:fault:${tag}:`),
  },
];

const luaString = (s: string) => JSON.stringify(s);

/** Key and number of event i (1..N). */
const keyOf = (i: number) => `k${i % KEYS}`;

/**
 * Runs the CLI until `killAfter` lines were printed (then SIGKILL) or every event was printed
 * at least once (then SIGTERM: a clean drain). Each printed event number goes into `seen`.
 */
function runCli(args: string[], seen: number[], killAfter: number | undefined, limitMs: number): Promise<CountedExit> {
  return runCounted(process.execPath, [BIN, 'run', ...args], { seen, total: N, killAfter, limitMs });
}

describe.each(stores)('tributary run with a keyed sum checkpointed to $name is killed (SIGKILL) and restarted', (store) => {
  const missing = ['TRIBUTARY_NATS_URL', ...store.variables].filter((v) => process.env[v] === undefined);
  const enabled = missing.length === 0 && BUILT;
  if (!enabled) console.log(`state-kill ${store.name}: set ${missing.join(' and ') || 'nothing more'} and run \`npm run build\` to run it`);
  const maybe = enabled ? it : it.skip;

  maybe(
    'ends with per-key state equal to the truth: 0 lost, 0 counted twice; the sink sees every event',
    async () => {
      const tag = `${process.pid}_${Date.now().toString(36)}`;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-state-kill-'));
      const natsUrl = process.env.TRIBUTARY_NATS_URL!;
      const nc = await connect({ servers: natsUrl });
      const jsm = await nc.jetstreamManager();
      const stream = `STATE_${tag}`;
      const subject = `state.${tag}`;
      const url = store.url(dir, tag);
      try {
        await jsm.streams.add({ name: stream, subjects: [subject] });
        const js = nc.jetstream();
        for (let from = 1; from <= N; from += 500) {
          const batch: Promise<unknown>[] = [];
          for (let i = from; i < from + 500 && i <= N; i++) batch.push(js.publish(subject, JSON.stringify({ k: keyOf(i), i })));
          await Promise.all(batch);
        }
        const script = path.join(dir, 'sums.lua');
        writeFileSync(
          script,
          [
            'local tb = require("tributary")',
            `tb.create_nats_source("in", { url = ${luaString(natsUrl)}, subject = ${luaString(subject)}, stream = ${luaString(stream)}, durable = "sums", max_in_flight = 2000, ack_wait = "10s" })`,
            'tb.create_stateful("sums", "k", function(s, p)',
            '  s = s or { n = 0, total = 0 }',
            '  s.n = s.n + 1',
            '  s.total = s.total + p.i',
            '  return { state = s, emit = { i = p.i } }',
            'end)',
            'tb.create_stdout_sink("out")',
            'tb.link("in", "sums")',
            'tb.link("sums", "out")',
            '',
          ].join('\n'),
        );
        const args = ['--state-store', url, '--checkpoint-interval', '300ms', script];
        const seen: number[] = [];
        const killAfter = 2000 + Math.floor(Math.random() * (N - 6000));
        const first = await runCli(args, seen, killAfter, 120_000);
        expect(first.signal).toBe('SIGKILL');
        const killedAt = seen.length;
        const second = await runCli(args, seen, undefined, 180_000);
        expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });

        const kv = await openStateStore(url);
        const got = new Map<string, { n: number; total: number }>();
        for await (const [k, v] of kv.list<{ s: { n: number; total: number } }>('sums/k/')) got.set(k.slice('sums/k/'.length), v.value.s);
        await kv.close();
        const truth = new Map<string, { n: number; total: number }>();
        for (let i = 1; i <= N; i++) {
          const t = truth.get(keyOf(i)) ?? { n: 0, total: 0 };
          t.n++;
          t.total += i;
          truth.set(keyOf(i), t);
        }
        const { lost, doubled } = compareSums(truth, got);
        reportFault(`state-kill-${store.name.toLowerCase()}`, {
          sent: N,
          received: N - lost,
          lost,
          duplicates: doubled,
          fault: `tributary run (stateful sums, ${store.name} store) SIGKILLed after ${killedAt} outputs, restarted; state checked per key`,
        });
        expect({ lost, doubled }).toEqual({ lost: 0, doubled: 0 });
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(truth));
        expect(new Set(seen).size).toBe(N);
      } finally {
        await jsm.streams.delete(stream).catch(() => undefined);
        await nc.close();
        if (store.name === 'Redis') await clearStore(url);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    330_000,
  );
});
