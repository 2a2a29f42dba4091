import * as amqp from 'amqplib';
import { connect } from 'nats';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { reportFault, tally } from './counts';
import { BIN, BUILT, runCounted, type CountedExit } from './group-children';

/**
 * Issue 9, fault suite: `tributary run` consuming a bus is killed with SIGKILL mid-stream and
 * started again on the same durable consumer / queue. Nothing may be lost, and the only
 * duplicates are events that were in flight at the kill (at most the source's in-flight cap):
 * an event is acked only once the sink wrote it. The script is a real Lua file run by the
 * real CLI (bin/tributary.js, the built bundle) against the shared broker, on a fresh
 * stream/queue; the broker itself is never touched.
 */
const N = 400;
const CAP = 20;

interface Bus {
  name: string;
  variable: string;
  /** Creates the input with N messages {i: 1..N}; returns the Lua source table text and a cleanup. */
  setup(tag: string): Promise<{ lua: string; cleanup: () => Promise<void> }>;
}

const luaString = (s: string) => JSON.stringify(s);

const buses: Bus[] = [
  {
    name: 'JetStream',
    variable: 'TRIBUTARY_NATS_URL',
    async setup(tag) {
      const url = process.env.TRIBUTARY_NATS_URL!;
      const nc = await connect({ servers: url });
      const jsm = await nc.jetstreamManager();
      const stream = `FAULTK_${tag}`;
      await jsm.streams.add({ name: stream, subjects: [`faultk.${tag}`] });
      const js = nc.jetstream();
      for (let i = 1; i <= N; i++) await js.publish(`faultk.${tag}`, JSON.stringify({ i }));
      return {
        lua: `{ url = ${luaString(url)}, subject = ${luaString(`faultk.${tag}`)}, stream = ${luaString(stream)}, durable = "k", max_in_flight = ${CAP}, ack_wait = "2s" }`,
        cleanup: async () => {
          await jsm.streams.delete(stream).catch(() => undefined);
          await nc.close();
        },
      };
    },
  },
  {
    name: 'RabbitMQ',
    variable: 'TRIBUTARY_AMQP_URL',
    async setup(tag) {
      const url = process.env.TRIBUTARY_AMQP_URL!;
      const conn = await amqp.connect(url);
      const ch = await conn.createConfirmChannel();
      const queue = `tb.faultk.${tag}`;
      await ch.assertQueue(queue, { durable: true });
      for (let i = 1; i <= N; i++) ch.sendToQueue(queue, Buffer.from(JSON.stringify({ i })), { persistent: true });
      await ch.waitForConfirms();
      return {
        lua: `{ url = ${luaString(url)}, queue = ${luaString(queue)}, prefetch = ${CAP} }`,
        cleanup: async () => {
          await ch.deleteQueue(queue).catch(() => undefined);
          await conn.close();
        },
      };
    },
  },
];

/**
 * Runs the script until `stopAfter` lines were printed (then SIGKILL) or every id arrived
 * (then SIGTERM, a clean stop); pushes each printed id into `seen`. Bounded by `limitMs`.
 */
function runCli(script: string, seen: number[], stopAfter: number | undefined, limitMs: number): Promise<CountedExit> {
  return runCounted(process.execPath, [BIN, 'run', script], { seen, total: N, killAfter: stopAfter, limitMs });
}

describe.each(buses)('tributary run consuming $name is killed (SIGKILL) mid-stream and restarted', (bus) => {
  const enabled = process.env[bus.variable] !== undefined && BUILT;
  if (!enabled) console.log(`cli-kill ${bus.name}: set ${bus.variable} and run \`npm run build\` to run it`);
  const maybe = enabled ? it : it.skip;

  maybe(
    'loses nothing; duplicates are at most the in-flight cap',
    async () => {
      const tag = `${process.pid}_${Date.now().toString(36)}`;
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-cli-kill-'));
      const { lua, cleanup } = await bus.setup(tag);
      try {
        const script = path.join(dir, 'consume.lua');
        const kind = bus.name === 'JetStream' ? 'nats_source' : 'amqp_source';
        writeFileSync(
          script,
          [
            'local tb = require("tributary")',
            `tb.create_${kind}("in", ${lua})`,
            '-- a little work per event, so the kill lands with events in flight',
            'tb.create_map("work", function(p) local x = 0 for k = 1, 20000 do x = x + k end return p end)',
            'tb.create_stdout_sink("out")',
            'tb.link("in", "work")',
            'tb.link("work", "out")',
            '',
          ].join('\n'),
        );
        const seen: number[] = [];
        const first = await runCli(script, seen, 150, 60_000);
        expect(first.signal).toBe('SIGKILL');
        const killedAt = seen.length;
        expect(new Set(seen).size).toBeLessThan(N);
        const second = await runCli(script, seen, undefined, 60_000);
        // SIGTERM is a graceful stop: the CLI drains and exits 0.
        expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 0, stderr: '' });
        const t = tally(
          Array.from({ length: N }, (_, i) => i + 1),
          seen,
        );
        reportFault(`cli-kill-${bus.name.toLowerCase()}`, {
          sent: N,
          received: t.received,
          lost: t.lost.length,
          duplicates: t.duplicates,
          cap: CAP,
          fault: `tributary run SIGKILLed after ${killedAt} events printed, then restarted`,
        });
        expect(t.lost).toEqual([]);
        expect(t.duplicates).toBeLessThanOrEqual(CAP);
      } finally {
        await cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    150_000,
  );
});
