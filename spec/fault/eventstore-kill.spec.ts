import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { EventStore, eventStoreDataSourceOptions } from '../../lib/eventstore';
import { reportFault, tally } from './counts';

/**
 * Issue 14, fault suite: a reliable event store consumer process (spec/fault/eventstore-consumer.ts)
 * is killed with SIGKILL mid-way through 10 000 events and started again. Nothing may be lost;
 * the only duplicates are events of the one batch (limit 100) that were written but not yet
 * acknowledged when it died. SQLite always; MariaDB and PostgreSQL when their URLs are set.
 */
const N = 10_000;
const BATCH = 100;
const CONSUMER = path.join(__dirname, 'eventstore-consumer.ts');
const ROOT = path.join(__dirname, '..', '..');

const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-esk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const targets: { name: string; url: string; drop: boolean }[] = [
  { name: 'sqlite', url: `sqlite:${path.join(dir, 'outbox.db')}`, drop: false },
  ...(process.env.TRIBUTARY_MYSQL_URL ? [{ name: 'mariadb', url: process.env.TRIBUTARY_MYSQL_URL, drop: true }] : []),
  ...(process.env.TRIBUTARY_PG_URL ? [{ name: 'postgres', url: process.env.TRIBUTARY_PG_URL, drop: true }] : []),
];

function lines(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
}

function startConsumer(url: string, prefix: string, out: string): ChildProcess {
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', CONSUMER, url, prefix, out], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Waits (bounded) until `check` holds, looking every 25 ms: real processes, real time. */
async function until(check: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

describe.each(targets)('event store consumer killed with SIGKILL ($name)', ({ name, url, drop }) => {
  it(`loses none of ${N} events; duplicates at most one batch`, async () => {
    const prefix = `outbox_kill_${process.pid}_`;
    const out = path.join(dir, `${name}.out`);
    const store = await EventStore.open({ url, prefix });
    try {
      await store.registerConsumer('killed');
      for (let i = 0; i < N; i += 1000) {
        await store.addEvents(Array.from({ length: 1000 }, (_, k) => ({ type: 'N', data: { i: i + k + 1 } })));
      }
      const first = startConsumer(url, prefix, out);
      await until(() => lines(out).length >= N * 0.3, 'the first consumer to get a third of the way');
      first.kill('SIGKILL');
      await exited(first);
      const atKill = lines(out).length;
      expect(atKill).toBeLessThan(N); // killed mid-way
      const second = startConsumer(url, prefix, out);
      await until(() => new Set(lines(out)).size >= N, 'the restarted consumer to catch up');
      second.kill('SIGTERM');
      await exited(second);
      const seen = lines(out);
      const t = tally(
        Array.from({ length: N }, (_, i) => i + 1),
        seen,
      );
      reportFault(`eventstore-kill-${name}`, {
        sent: N,
        received: t.received,
        lost: t.lost.length,
        duplicates: t.duplicates,
        cap: BATCH,
        fault: `reliable consumer SIGKILLed after ${atKill} events, restarted`,
      });
      expect(t.lost).toEqual([]);
      expect(t.duplicates).toBeLessThanOrEqual(BATCH);
    } finally {
      await store.close();
      if (drop) {
        const ds = new DataSource(eventStoreDataSourceOptions(url));
        await ds.initialize();
        for (const t of ['queue', 'consumers', 'sequence']) await ds.query(`DROP TABLE IF EXISTS ${prefix}${t}`);
        await ds.destroy();
      }
    }
  }, 300_000);
});
