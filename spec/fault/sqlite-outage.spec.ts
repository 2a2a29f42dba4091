import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWindowStore } from 'tributary/windows';
import { READINGS, ackedIngest } from '../support/acked-ingest';
import { reportFault } from './counts';

/**
 * Issue 9, point 1, the reported loss: http_source (respond "acked") → window → discarder,
 * and the window's database goes away mid-stream. Every request answered 2xx must be in the
 * table afterwards; the ones whose rows could not be stored are answered with a failure (the
 * client retries them), never 2xx. Here the outage is the table vanishing from a real SQLite
 * file (renamed away by another connection, then back), which fails inserts the way a lost
 * database does and keeps what was stored before.
 */
describe('a window database outage behind http_source respond "acked"', () => {
  it('answers 2xx only for rows that were stored; the others get 500 and nothing is lost', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tb-outage-')), 'w.db');
    const url = `sqlite:${file}`;
    const { net, answers, send } = await ackedIngest(url);
    // A second connection to the same file, as an operator's (or a failover's) would be.
    const admin = await openWindowStore({ url, tables: [READINGS] });
    try {
      for (let n = 1; n <= 10; n++) await send(n);
      await admin.query('ALTER TABLE readings RENAME TO readings_away');
      for (let n = 11; n <= 20; n++) await send(n);
      await admin.query('ALTER TABLE readings_away RENAME TO readings');
      for (let n = 21; n <= 30; n++) await send(n);

      const rows = (await admin.query('SELECT n FROM readings')).map((r) => Number(r.n));
      const stored = new Set(rows);
      const ok = [...answers].filter(([, status]) => status >= 200 && status < 300).map(([n]) => n);
      reportFault('sqlite-outage', {
        sent: ok.length,
        received: ok.filter((n) => stored.has(n)).length,
        lost: ok.filter((n) => !stored.has(n)).length,
        duplicates: rows.length - stored.size,
        fault: `the window table of a SQLite file renamed away and back behind respond "acked": ${answers.size} requests, ${ok.length} answered 2xx (counted as sent)`,
      });
      // Nothing answered 2xx is missing: the rule this spec guards.
      expect(ok.filter((n) => !stored.has(n))).toEqual([]);
      // During the outage the client heard of the failure (and may retry): no 2xx.
      expect([...answers].filter(([n]) => n > 10 && n <= 20).map(([, s]) => s)).toEqual(Array(10).fill(500));
      // Before and after it, everything went through.
      expect(ok.sort((a, b) => a - b)).toEqual([...Array(10).keys()].map((i) => i + 1).concat([...Array(10).keys()].map((i) => i + 21)));
      expect(net.stats().void).toMatchObject({ nacked: 10 });
    } finally {
      await net.stop();
      await admin.close();
    }
  }, 30_000);
});
