import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { serveEventStore, type EventStoreServer, type StoredEvent } from '../../lib/eventstore';
import { drivers } from './helpers';

const servers: EventStoreServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Reads Server-Sent Events until `n` events arrived, then aborts the request. */
async function readSse(
  url: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<{ id: string; event: string; data: StoredEvent }[]> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const out: { id: string; event: string; data: StoredEvent }[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body!.getReader();
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const f: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const m = /^(\w+): (.*)$/.exec(line);
        if (m) f[m[1]] = m[2];
      }
      if (f.data) out.push({ id: f.id, event: f.event, data: JSON.parse(f.data) as StoredEvent });
    }
  }
  abort.abort();
  return out;
}

describe.each(drivers)('event store HTTP API on $name', (driver) => {
  it('registers, polls as JSON and acks over HTTP with FTN18 semantics', async () => {
    const { store } = await driver.open();
    const server = await serveEventStore(store, { token: 's3cret-token' });
    servers.push(server);
    const auth = { authorization: 'Bearer s3cret-token' };
    await store.addEvents([1, 2, 3].map((i) => ({ type: 'N', data: i })));
    expect((await fetch(`${server.url}/consumers/remote`, { method: 'PUT', headers: auth })).status).toBe(204);
    const polled = (await (await fetch(`${server.url}/events?component=remote&limit=2`, { headers: auth })).json()) as {
      events: StoredEvent[];
    };
    expect(polled.events.map((e) => e.data)).toEqual([1, 2]);
    const acked = await fetch(`${server.url}/consumers/remote/ack`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ lastId: polled.events[1].id }),
    });
    expect(await acked.json()).toEqual({ lastId: polled.events[1].id });
    const next = (await (await fetch(`${server.url}/events?component=remote`, { headers: auth })).json()) as { events: StoredEvent[] };
    expect(next.events.map((e) => e.data)).toEqual([3]);
    const unknown = await fetch(`${server.url}/events?component=nobody`, { headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'NotRegistered' });
    const live = await fetch(`${server.url}/consumers/LIVE`, { method: 'PUT', headers: auth });
    expect(live.status).toBe(403);
  });

  it('refuses requests without the bearer token and never echoes it', async () => {
    const { store } = await driver.open();
    const errors: string[] = [];
    const server = await serveEventStore(store, { token: 's3cret-token', onError: (m) => errors.push(m) });
    servers.push(server);
    const none = await fetch(`${server.url}/events`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${server.url}/events`, { headers: { authorization: 'Bearer s3cret-tokeX' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('s3cret');
    expect(errors.join('')).not.toContain('s3cret');
  });

  it('pushes a reliable consumer its events as Server-Sent Events; a reconnect replays what was not acked', async () => {
    const { store } = await driver.open();
    const server = await serveEventStore(store, {});
    servers.push(server);
    await store.registerConsumer('sse');
    await store.addEvents([1, 2].map((i) => ({ type: 'N', data: i })));
    const first = readSse(`${server.url}/stream?component=sse`, 3);
    await store.addEvent('M', 3);
    const got = await first;
    expect(got.map((e) => [e.event, e.data.data])).toEqual([
      ['N', 1],
      ['N', 2],
      ['M', 3],
    ]);
    expect(got.map((e) => e.id)).toEqual(got.map((e) => e.data.id));
    await store.ack('sse', got[0].id);
    const again = await readSse(`${server.url}/stream?component=sse`, 2);
    expect(again.map((e) => e.data.data)).toEqual([2, 3]);
  });
});

describe('tributary eventstore serve', () => {
  it('serves a store given by --db until SIGTERM, with the token from the environment', async () => {
    const { store, url, prefix } = await drivers[0].open();
    await store.addEvent('N', 1);
    const cli = "require('./lib/cli/program').main(['node', 'tributary', ...process.argv.slice(1)]).then((c) => process.exit(c))";
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', cli, 'eventstore', 'serve', '--db', url, '--prefix', prefix, '--port', '0'],
      {
        cwd: path.join(__dirname, '..', '..'),
        env: { ...process.env, TRIBUTARY_EVENTSTORE_TOKEN: 'tok-123' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const address = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /serving on (http:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`exited: ${stderr}`)));
    });
    const res = await fetch(`${address}/events`, { headers: { authorization: 'Bearer tok-123' } });
    expect(((await res.json()) as { events: StoredEvent[] }).events.map((e) => e.data)).toEqual([1]);
    const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(stderr).not.toContain('tok-123');
  }, 60_000);
});
