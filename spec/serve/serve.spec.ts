import * as net from 'node:net';
import * as path from 'node:path';
import { serveCommand, queueCommand, type ServeOptions } from '../../lib/cli/commands/serve';
import { EXIT } from '../../lib/cli/exit';
import { DurableQueue } from '../../lib/serve/queue';
import { collector, networkFile, ports, post, tempDir, until } from './helpers';

/** Starts `serve` in-process on free ports; returns its URLs, a stop (like SIGTERM) and the exit code promise. */
async function startServe(scripts: string[], o: Partial<ServeOptions>) {
  const stop = new AbortController();
  const stderr = collector();
  const done = serveCommand(
    scripts,
    { port: 0, maintenancePort: 0, logFormat: 'json', signal: stop.signal, ...o },
    { stdout: collector(), stderr },
  );
  let failed: unknown;
  done.catch((e: unknown) => (failed = e));
  const p = await until(
    () => {
      if (failed) throw failed;
      return ports(stderr.text());
    },
    30_000,
    'serve to listen',
  );
  return {
    url: `http://127.0.0.1:${p.port}/binge`,
    ops: `http://127.0.0.1:${p.maintenance}`,
    stderr,
    stop: () => {
      stop.abort();
      return done;
    },
  };
}

const getJson = async (url: string) => (await fetch(url)).json() as Promise<any>;

describe('serve (request/response)', () => {
  const dir = tempDir();

  it('answers 200 with the replies of the event, 500 with the error of a failed one, 400 for bad JSON', async () => {
    const s = await startServe([networkFile(dir)], {});
    try {
      const ok = await post(s.url, '{"n":21}');
      expect(ok.status).toBe(200);
      expect(ok.json.replies).toEqual([{ n: 21, score: 42 }]);
      expect(typeof ok.json.id).toBe('string');
      const failed = await post(s.url, '{"n":3,"fail":true}');
      expect(failed.status).toBe(500);
      expect(failed.json.error).toContain('cannot score 3');
      const bad = await post(s.url, '{"n":');
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatch(/body is not JSON/);
      // Concurrent requests each get their own replies (collected by event id).
      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => post(s.url, JSON.stringify({ n: i }))));
      expect(many.map((r) => r.json.replies)).toEqual(Array.from({ length: 40 }, (_, i) => [{ n: i, score: 2 * i }]));
      const stats = await getJson(`${s.ops}/stats`);
      expect(stats).toMatchObject({ mode: 'request-response', requests: 43, byStatus: { 200: 41, 400: 1, 500: 1 } });
      expect((await fetch(`${s.ops}/healthz`)).status).toBe(200);
      expect((await fetch(`${s.ops}/readyz`)).status).toBe(200);
    } finally {
      expect(await s.stop()).toBe(EXIT.OK);
    }
  });

  it("answers 200 'accepted' when the network has no reply node", async () => {
    const d = tempDir();
    const out = path.join(d, 'out.ndjson');
    const s = await startServe([networkFile(d, { reply: false, file: out })], { allowFiles: true });
    try {
      const r = await post(s.url, '{"n":1}');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ id: expect.any(String), status: 'accepted' });
      // 200 comes after the sink wrote the event.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      expect((require('node:fs') as typeof import('node:fs')).readFileSync(out, 'utf8')).toBe('{"n":1,"score":2}\n');
    } finally {
      await s.stop();
    }
  });

  it('drains on stop: a request in flight is answered 200, later ones are refused, exit 0', async () => {
    const s = await startServe([networkFile(dir, { delay: '300ms' })], {});
    const inFlight = post(s.url, '{"n":7}');
    await until(async () => ((await getJson(`${s.ops}/stats`)).eventsInFlight === 1 ? true : undefined), 10_000, 'the event in flight');
    const code = s.stop();
    const r = await inFlight;
    expect(r.status).toBe(200);
    expect(r.json.replies).toEqual([{ n: 7, score: 14 }]);
    expect(await code).toBe(EXIT.OK);
    await expect(post(s.url, '{"n":8}')).rejects.toThrow();
  });

  it('refuses connections past --max-connections', async () => {
    const s = await startServe([networkFile(dir)], { maxConnections: 2 });
    const sockets: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const sock = net.connect(Number(new URL(s.url).port), '127.0.0.1');
        await new Promise((r) => sock.once('connect', r));
        sockets.push(sock);
      }
      // Let the server register the two before the third.
      await until(async () => ((await getJson(`${s.ops}/stats`)).mode ? true : undefined));
      const third = net.connect(Number(new URL(s.url).port), '127.0.0.1');
      const closed = await new Promise<boolean>((resolve) => {
        third.once('close', () => resolve(true));
        third.once('data', () => resolve(false));
        third.write('POST /binge HTTP/1.1\r\nhost: x\r\ncontent-length: 7\r\n\r\n{"n":1}');
      });
      expect(closed).toBe(true);
    } finally {
      for (const sock of sockets) sock.destroy();
      await s.stop();
    }
  });
});

describe('serve --durable-queue', () => {
  it('answers 202 once queued, processes every item through the network and deletes it', async () => {
    const d = tempDir();
    const out = path.join(d, 'out.ndjson');
    const file = path.join(d, 'queue.db');
    const s = await startServe([networkFile(d, { reply: false, file: out })], { allowFiles: true, durableQueue: file, workers: 4 });
    try {
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(s.url, JSON.stringify({ n: i + 1 }))));
      expect(answers.every((a) => a.status === 202 && Number.isInteger(a.json.id))).toBe(true);
      expect((await post(s.url, 'nope')).status).toBe(400);
      await until(async () => {
        const st = await getJson(`${s.ops}/stats`);
        return st.queue.pending === 0 && st.queue.inFlight === 0 ? st : undefined;
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const lines = (require('node:fs') as typeof import('node:fs')).readFileSync(out, 'utf8').trim().split('\n');
      expect(lines.map((l) => JSON.parse(l).n).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    } finally {
      expect(await s.stop()).toBe(EXIT.OK);
    }
    const q = await DurableQueue.open(file);
    expect(await q.counts()).toEqual({ pending: 0, inFlight: 0, dead: 0 });
    await q.close();
  });

  it("refuses to start a second daemon on a queue file another one serves (it would replay the first one's items in flight)", async () => {
    const d = tempDir();
    const file = path.join(d, 'queue.db');
    const s = await startServe([networkFile(d)], { durableQueue: file });
    try {
      await expect(
        serveCommand(
          [networkFile(d)],
          { port: 0, maintenancePort: 0, logFormat: 'json', durableQueue: file },
          { stdout: collector(), stderr: collector() },
        ),
      ).rejects.toThrow(new RegExp(`in use by pid ${process.pid} on .*one daemon serves a queue file`));
    } finally {
      expect(await s.stop()).toBe(EXIT.OK);
    }
    // Released at the clean stop: the next daemon starts at once.
    const again = await startServe([networkFile(d)], { durableQueue: file });
    expect(await again.stop()).toBe(EXIT.OK);
  });

  it('dead-letters an item failing --max-attempts times; the CLI lists and requeues it', async () => {
    const d = tempDir();
    const file = path.join(d, 'queue.db');
    const s = await startServe([networkFile(d)], { durableQueue: file, maxAttempts: 2, retryDelay: '10ms' });
    try {
      const r = await post(s.url, '{"n":9,"fail":true}');
      expect(r.status).toBe(202);
      const dead = await until(async () => {
        const items = (await getJson(`${s.ops}/queue/dead-letters`)).items;
        return items.length === 1 ? items : undefined;
      });
      expect(dead[0]).toMatchObject({ id: r.json.id, attempts: 2, lastError: expect.stringContaining('cannot score 9') });
    } finally {
      await s.stop();
    }
    const listed = collector();
    expect(await queueCommand({ action: 'dead-letters', file, json: true }, { stdout: listed, stderr: collector() })).toBe(EXIT.OK);
    expect(JSON.parse(listed.text())).toEqual([expect.objectContaining({ attempts: 2 })]);
    const requeued = collector();
    expect(
      await queueCommand(
        { action: 'requeue', file, ids: [String(JSON.parse(listed.text())[0].id)] },
        { stdout: requeued, stderr: collector() },
      ),
    ).toBe(EXIT.OK);
    expect(requeued.text()).toBe('1 item queued again\n');
    const q = await DurableQueue.open(file);
    expect(await q.counts()).toEqual({ pending: 1, inFlight: 0, dead: 0 });
    await q.close();
  });

  it('on stop, items whose events a buffer holds are settled by the network drain and deleted', async () => {
    const d = tempDir();
    const out = path.join(d, 'out.ndjson');
    const file = path.join(d, 'queue.db');
    const yaml = path.join(d, 'buffered.yaml');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('node:fs') as typeof import('node:fs');
    fs.writeFileSync(
      yaml,
      `nodes:\n  - { name: in, kind: stdin_source }\n  - { name: batch, kind: buffer, options: { size: 100 } }\n` +
        `  - { name: done, kind: file_sink, options: { path: ${JSON.stringify(out)} } }\nedges:\n  - { from: in, to: batch }\n  - { from: batch, to: done }\n`,
    );
    const s = await startServe([yaml], { allowFiles: true, durableQueue: file, drainTimeout: '300ms' });
    for (let i = 1; i <= 3; i++) expect((await post(s.url, JSON.stringify({ n: i }))).status).toBe(202);
    await until(async () => ((await getJson(`${s.ops}/stats`)).queue.inFlight === 3 ? true : undefined));
    expect(await s.stop()).toBe(EXIT.OK);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const q = await DurableQueue.open(file);
    expect(await q.counts()).toEqual({ pending: 0, inFlight: 0, dead: 0 });
    await q.close();
  });

  it('answers 429 with Retry-After above the high-water mark until the backlog is below the low-water mark', async () => {
    const d = tempDir();
    const file = path.join(d, 'queue.db');
    const s = await startServe([networkFile(d, { delay: '150ms' })], { durableQueue: file, workers: 1, highWater: 4, lowWater: 2 });
    try {
      const codes: number[] = [];
      let refused: { status: number; headers: Headers } | undefined;
      for (let i = 0; i < 8; i++) {
        const r = await post(s.url, JSON.stringify({ n: i }));
        codes.push(r.status);
        if (r.status === 429) refused = r;
      }
      expect(codes.slice(0, 4)).toEqual([202, 202, 202, 202]);
      expect(codes.slice(4)).toContain(429);
      expect(refused!.headers.get('retry-after')).toBe('1');
      // While the backlog is at or above the low-water mark, still refused.
      const st = await getJson(`${s.ops}/stats`);
      expect(st.queue.throttled).toBe(true);
      // The slow worker drains it; below the low-water mark requests are taken again.
      await until(async () => ((await getJson(`${s.ops}/stats`)).queue.backlog < 2 ? true : undefined));
      expect((await post(s.url, '{"n":100}')).status).toBe(202);
      const pending = await getJson(`${s.ops}/queue/pending`);
      const working = await getJson(`${s.ops}/queue/in-flight`);
      for (const item of [...pending.items, ...working.items]) expect(item.ageMs).toBeGreaterThanOrEqual(0);
    } finally {
      await s.stop();
    }
  });
});
