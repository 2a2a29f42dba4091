import { spawnSync } from 'node:child_process';
import { createConnection } from 'mysql2/promise';
import { ackedIngest } from '../support/acked-ingest';
import { reportFault } from './counts';
import { OwnServer, faultSuite } from './servers';

/**
 * Issue 9, point 1, the reported loss, with the real failure: http_source (respond "acked")
 * → window → discarder on a MariaDB server this test starts on a spare port and kills with
 * SIGKILL mid-stream, then restarts on the same data directory. Every request answered 2xx
 * must be in the table afterwards; requests during the outage must not be answered 2xx. The
 * shared MariaDB on 3306 is never touched. Runs with the integration suites
 * (TRIBUTARY_MYSQL_URL set, as `.ci/run` does) where mariadbd is installed.
 */
const MARIADBD = '/usr/sbin/mariadbd';
const suite = faultSuite('mariadb-outage', 'TRIBUTARY_MYSQL_URL', MARIADBD);

/** A private mariadbd: a data directory installed once, started and killed by PID. */
class OwnMariaDb {
  private constructor(readonly server: OwnServer) {}

  static async create(): Promise<OwnMariaDb> {
    const server = await OwnServer.create('tb-mariadb-');
    const r = spawnSync(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${server.dir}/data`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=root'],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`mariadb-install-db failed: ${r.stderr}`);
    return new OwnMariaDb(server);
  }

  get port(): number {
    return this.server.port;
  }

  start(): Promise<void> {
    const { dir, port } = this.server;
    const argv = [MARIADBD, '--no-defaults', `--datadir=${dir}/data`, `--port=${port}`, `--socket=${dir}/sock`, '--bind-address=127.0.0.1'];
    return this.server.start([...argv, '--user=root', '--skip-grant-tables', `--pid-file=${dir}/pid`], async () => {
      const c = await createConnection({ host: '127.0.0.1', port, user: 'root' });
      await c.query('CREATE DATABASE IF NOT EXISTS t');
      await c.end();
    });
  }

  kill(): Promise<void> {
    return this.server.kill();
  }

  async rows(): Promise<number[]> {
    const c = await createConnection({ host: '127.0.0.1', port: this.port, user: 'root', database: 't' });
    try {
      const [rows] = await c.query('SELECT n FROM readings');
      return (rows as { n: number }[]).map((r) => Number(r.n));
    } finally {
      await c.end();
    }
  }
}

suite('a MariaDB the window writes to is killed (SIGKILL) and restarted behind http_source respond "acked"', () => {
  let db: OwnMariaDb;
  beforeAll(async () => {
    db = await OwnMariaDb.create();
    await db.start();
  }, 60_000);
  afterAll(async () => {
    await db?.server.dispose();
  });

  it('every request answered 2xx is in the table after recovery; none during the outage got 2xx', async () => {
    const { net, answers, send } = await ackedIngest(`mysql://root@127.0.0.1:${db.port}/t`);
    try {
      for (let n = 1; n <= 20; n++) await send(n);
      await db.kill();
      for (let n = 21; n <= 30; n++) await send(n);
      await db.start();
      // The pool reconnects: keep sending until the window stores again (bounded).
      let n = 31;
      for (; n <= 200 && !(answers.get(n - 1)! >= 200 && answers.get(n - 1)! < 300); n++) await send(n);
      for (const end = n + 10; n < end; n++) await send(n);

      const rows = await db.rows();
      const stored = new Set(rows);
      const ok = [...answers].filter(([, s]) => s >= 200 && s < 300).map(([k]) => k);
      const during = [...answers].filter(([k]) => k > 20 && k <= 30).map(([, s]) => s);
      reportFault('mariadb-outage', {
        sent: ok.length,
        received: ok.filter((k) => stored.has(k)).length,
        lost: ok.filter((k) => !stored.has(k)).length,
        duplicates: rows.length - stored.size,
        fault: `own mariadbd SIGKILLed and restarted behind respond "acked": ${answers.size} requests, ${ok.length} answered 2xx (counted as sent), outage answers ${during.join(',')}`,
      });
      expect(ok.filter((k) => !stored.has(k))).toEqual([]);
      expect(during.filter((s) => s >= 200 && s < 300)).toEqual([]);
      expect(ok).toEqual(expect.arrayContaining([...Array(20).keys()].map((i) => i + 1)));
      expect(ok.filter((k) => k > 30).length).toBeGreaterThanOrEqual(10);
    } finally {
      await net.stop({ timeout: '5s' });
    }
  }, 120_000);
});
