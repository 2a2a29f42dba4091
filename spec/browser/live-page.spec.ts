import { existsSync, mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { Network, nodes } from 'tributary';
import { captureLogger } from '../connectors/helpers';

/**
 * Issue 11: the live page in a real browser (Debian's Chromium driven by playwright-core).
 * A running network with a failing node is opened on its operations port: every node is
 * drawn, counters go up between two reads, the failing node is marked, clicking it shows its
 * options and last error; a screenshot goes to TRIBUTARY_CI_OUTPUT (or the temp directory).
 */
const CHROMIUM = process.env.TRIBUTARY_CHROMIUM ?? '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.log(`live page: no browser at ${CHROMIUM} (apt-get install chromium, or set TRIBUTARY_CHROMIUM)`);

maybe('the live page in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    // playwright gives every launch a fresh, empty profile of its own.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every node, counts up, marks the failing node and shows its details', async () => {
    const net = new Network({ logger: captureLogger(), http: { port: 0, interval: '100ms', title: 'bets demo' } });
    net.add('bets', nodes.ticker({ interval: '20ms' }));
    net.add(
      'price',
      nodes.map({
        fn: (n: number) => {
          if (n % 5 === 0) throw new Error(`no price for bet ${n}`);
          return { bet: n, stake: n * 2 };
        },
      }),
    );
    net.add('big', nodes.where({ fn: (b: { stake: number }) => b.stake > 10 }));
    net.add('alerts', nodes.sink({ fn: () => undefined }));
    net.add('dead_letters', nodes.sink({ fn: () => undefined }));
    net.link('bets', 'price').link('price', 'big').link('big', 'alerts');
    net.routeErrors('price', 'dead_letters');
    await net.start();
    const ops = (await net.opsServer())!;
    const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
    try {
      await page.goto(`${ops.url}/`);
      await page.waitForSelector('#graph svg');
      const drawn = await page.$$eval('#graph g.node', (gs) => gs.map((g) => g.getAttribute('data-node')));
      expect(drawn.sort()).toEqual(['alerts', 'bets', 'big', 'dead_letters', 'price']);

      const readIn = () => page.$eval('#nodes tr[data-node="alerts"] td:nth-child(5)', (td) => Number(td.textContent));
      await page.waitForSelector('#nodes tr[data-node="alerts"]');
      const first = await readIn();
      // (runs in the page: the spec's own types have no DOM)
      await page.waitForFunction((before) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document;
        const td = doc.querySelector('#nodes tr[data-node="alerts"] td:nth-child(5)');
        return td !== null && Number(td.textContent) > before;
      }, first);
      expect(await readIn()).toBeGreaterThan(first);

      await page.waitForSelector('#graph g.node.errored[data-node="price"]');
      expect(await page.$$eval('#graph g.node.errored', (gs) => gs.map((g) => g.getAttribute('data-node')))).toEqual(['price']);
      // The counters line under the name is live too.
      expect(await page.$eval('#graph g.node[data-node="price"]', (g) => g.textContent)).toMatch(
        /in [\d.]+\/s · out [\d.]+\/s · err [1-9]/,
      );

      await page.click('#graph g.node[data-node="price"]');
      await page.waitForSelector('#details .error');
      expect(await page.textContent('#details')).toMatch(/pipeline · map[\s\S]*no price for bet \d+/);

      const out = process.env.TRIBUTARY_CI_OUTPUT ?? os.tmpdir();
      mkdirSync(out, { recursive: true });
      await page.screenshot({ path: path.join(out, 'live-page.png'), fullPage: true });
      console.log(`live page screenshot: ${path.join(out, 'live-page.png')}`);
    } finally {
      await page.close();
      await net.stop();
    }
  }, 60_000);
});
