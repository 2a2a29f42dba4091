/**
 * Soak: a window network under steady load for a while, watching the process's memory. A
 * ticker every 2 ms → a map building bets → a SQL time window (SQLite file, 10 s, query every
 * second, expiry every run) → the filter dedupe → a discarder; plus a Lua map per event. RSS
 * and heap are sampled every 30 s; the first minute is warm-up, then start and end are
 * compared (issue 9: flat means within 20 %).
 *
 *   npx ts-node --transpile-only bench/soak.ts [minutes=10]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Network, nodes } from '../lib/index';
import { LuaRuntime } from '../lib/lua/index';
import { windows, windowsPlugin } from '../lib/windows/index';

const minutes = Number(process.argv[2] ?? 10);
const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tb-soak-')), 'soak.db');

async function main(): Promise<void> {
  const net = new Network({
    plugins: [
      windowsPlugin({
        url: `sqlite:${file}`,
        tables: [{ name: 'bets', columns: { customer: 'integer', stake: 'number', at: 'integer' } }],
      }),
    ],
  });
  const runtime = new LuaRuntime(net);
  runtime.runString(
    `local tb = require('tributary')
     tb.create_map("lua_enrich", function(b) b.stake = b.stake + 1 return b end)`,
    'soak.lua',
  );
  let n = 0;
  net.add('tick', nodes.ticker({ interval: '2ms' }));
  net.add('bet', nodes.map({ fn: () => ({ customer: n++ % 50, stake: n % 7 }) }));
  net.add(
    'liability',
    windows.timeWindow({
      sql: 'select customer, sum(stake) as total from bets where at >= :window_start group by customer having total > 100',
      table: 'bets',
      duration: '10s',
      timeColumn: 'at',
      every: '1s',
    }),
  );
  net.add('once', windows.filter({ duration: '10s' }));
  net.add('void', nodes.discarder());
  net.link('tick', 'bet');
  net.link('bet', 'lua_enrich');
  net.link('lua_enrich', 'liability');
  net.link('liability', 'once');
  net.link('once', 'void');
  await net.start();

  const samples: { at: number; rssMb: number; heapMb: number; events: number }[] = [];
  const t0 = Date.now();
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({
      at: Math.round((Date.now() - t0) / 1000),
      rssMb: m.rss / 2 ** 20,
      heapMb: m.heapUsed / 2 ** 20,
      events: net.stats().bet.out,
    });
    const s = samples[samples.length - 1];
    console.log(`${String(s.at).padStart(4)} s  rss ${s.rssMb.toFixed(1)} MB  heap ${s.heapMb.toFixed(1)} MB  events ${s.events}`);
  };
  sample();
  await new Promise<void>((resolve) => {
    const timer = setInterval(sample, 30_000);
    setTimeout(() => {
      clearInterval(timer);
      resolve();
    }, minutes * 60_000);
  });
  sample();
  const report = await net.stop();
  runtime.close();
  const start = samples.find((s) => s.at >= 60) ?? samples[0];
  const end = samples[samples.length - 1];
  const growth = end.rssMb / start.rssMb - 1;
  console.log(
    `soak ${minutes} min: ${end.events} events, rss ${start.rssMb.toFixed(1)} → ${end.rssMb.toFixed(1)} MB (${(growth * 100).toFixed(1)} %), ` +
      `heap ${start.heapMb.toFixed(1)} → ${end.heapMb.toFixed(1)} MB; drain timed out: ${report.timedOut}; target: within 20 %`,
  );
  const out = path.join(__dirname, 'records.json');
  let results: Record<string, unknown> = {};
  try {
    results = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    /* first run */
  }
  results.soak = {
    date: new Date().toISOString(),
    minutes,
    events: end.events,
    rssStartMb: start.rssMb,
    rssEndMb: end.rssMb,
    growth,
    samples,
  };
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
}

void main();
