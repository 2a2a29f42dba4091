import { Network, nodes } from 'tributary';
import { builtinPlugins } from 'tributary/plugins';
import { parseListen, startOpsServer } from 'tributary/observe';
import { captureLogger, waitFor } from '../connectors/helpers';
import { parseProm, sampleValue } from './prom-text';

/** A network that runs until stopped: a pushed stream → map (fails on 3) → sink, errors to a dead-letter sink. */
function build(options: ConstructorParameters<typeof Network>[0] = {}) {
  let push!: (n: number) => void;
  const net = new Network({ logger: captureLogger(), ...options });
  net.add(
    'input',
    nodes.injector({
      // Runs until stop: returns a clean-up function, keeps `emit` for the test.
      fn: ({ emit }) => {
        push = (n) => void emit(n);
        return () => undefined;
      },
    }),
  );
  net.add(
    'triple',
    nodes.map({
      fn: (n: number) => {
        if (n === 3) throw new Error('three is right out');
        return n * 3;
      },
    }),
  );
  net.add('out', nodes.sink({ fn: () => undefined }));
  net.add('dead', nodes.sink({ fn: () => undefined }));
  net.link('input', 'triple').link('triple', 'out');
  net.routeErrors('triple', 'dead');
  return { net, push: (n: number) => push(n) };
}

/** Reads Server-Sent Events from a real connection until `enough(data)` holds. */
async function readEvents(url: string, enough: (all: unknown[]) => boolean): Promise<unknown[]> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  const seen: unknown[] = [];
  let buffer = '';
  try {
    while (!enough(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += Buffer.from(value).toString('utf8');
      const parts = buffer.split('\n\n');
      buffer = parts.pop()!;
      for (const p of parts) for (const line of p.split('\n')) if (line.startsWith('data: ')) seen.push(JSON.parse(line.slice(6)));
    }
  } finally {
    await reader.cancel();
  }
  return seen;
}

describe('the operations port', () => {
  it('serves /metrics equal to net.stats(), /healthz, /readyz (503 once stopping), and closes when the network stops', async () => {
    const { net, push } = build({ http: { port: 0, interval: '50ms' } });
    await net.start();
    const ops = (await net.opsServer())!;
    expect(ops.host).toBe('127.0.0.1');
    for (let n = 1; n <= 5; n++) push(n);
    await waitFor(() => net.stats().out.in === 4, 'four events at the sink');
    const scraped = parseProm(await (await fetch(`${ops.url}/metrics`)).text()).samples;
    for (const [node, s] of Object.entries(net.stats())) {
      expect(sampleValue(scraped, 'tributary_node_events_in_total', { node })).toBe(s.in);
      expect(sampleValue(scraped, 'tributary_node_errors_total', { node })).toBe(s.errors);
    }
    expect(await (await fetch(`${ops.url}/healthz`)).json()).toEqual({ status: 'alive' });
    const ready = await fetch(`${ops.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true, state: 'running' }]);
    const details = (await (await fetch(`${ops.url}/nodes/triple`)).json()) as { kind: string; errors: string[] };
    expect(details.kind).toBe('map');
    expect(details.errors).toEqual(['three is right out']);
    expect((await fetch(`${ops.url}/nodes/nope`)).status).toBe(404);
    await net.stop();
    await expect(fetch(`${ops.url}/healthz`)).rejects.toThrow();
  });

  it('streams snapshots whose counters grow, and draws every node in /graph.svg', async () => {
    const { net, push } = build({ http: { port: 0, interval: '20ms' } });
    await net.start();
    const ops = (await net.opsServer())!;
    try {
      const svg = await (await fetch(`${ops.url}/graph.svg`)).text();
      for (const name of ['input', 'triple', 'out', 'dead']) expect(svg).toContain(`id="node:${name}"`);
      let n = 0;
      const snaps = (await readEvents(`${ops.url}/events`, (all) => {
        push(++n);
        return all.length >= 3;
      })) as { state: string; nodes: { name: string; stats: { in: number } }[] }[];
      const ins = snaps.map((s) => s.nodes.find((x) => x.name === 'triple')!.stats.in);
      expect(ins[ins.length - 1]).toBeGreaterThan(ins[0]);
      expect(snaps[0].state).toBe('running');
      const page = await (await fetch(`${ops.url}/`)).text();
      expect(page).toContain('<title>tributary · Tributary</title>');
      expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // nothing from a CDN
    } finally {
      await net.stop();
    }
  });

  it('asks for the bearer token everywhere but the health checks', async () => {
    const net = new Network({ logger: captureLogger() });
    net.add('input', nodes.from({ items: [1] }));
    net.add('out', nodes.sink({ fn: () => undefined }));
    net.link('input', 'out');
    const ops = await startOpsServer(net, { port: 0, token: 's3cret' });
    try {
      expect((await fetch(`${ops.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${ops.url}/metrics`, { headers: { authorization: 'Bearer wrong!' } })).status).toBe(401);
      expect((await fetch(`${ops.url}/metrics`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect((await fetch(`${ops.url}/?token=s3cret`)).status).toBe(200);
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
      const notStarted = await fetch(`${ops.url}/readyz`);
      expect([notStarted.status, await notStarted.json()]).toEqual([503, { ready: false, state: 'building' }]);
    } finally {
      await ops.close();
    }
  });

  it('hides secrets in the options it shows', async () => {
    const net = new Network({ logger: captureLogger(), plugins: builtinPlugins() });
    net.create('webhook', 'hook', {
      url: 'https://user:pw@hooks.example.com/services/T0/B0/XYZ?key=1',
      headers: { 'X-Api-Token': 'abc', 'X-Team': 'risk' },
    });
    net.add('input', nodes.from({ items: [] }));
    net.link('input', 'hook');
    const ops = await startOpsServer(net, { port: 0 });
    try {
      const text = await (await fetch(`${ops.url}/nodes/hook`)).text();
      expect(JSON.parse(text).options).toMatchObject({
        url: 'https://hooks.example.com',
        headers: { 'X-Api-Token': '***', 'X-Team': 'risk' },
      });
      for (const secret of ['pw', 'XYZ', 'key=1', 'abc']) expect(text).not.toContain(secret);
    } finally {
      await ops.close();
    }
  });

  it('reads --http as [host:]port, localhost by default, and names the flag when it is wrong', () => {
    expect(parseListen('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen(':9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(() => parseListen('localhost:99999')).toThrow(
      "--http must be [host:]port (a port up to 65535, e.g. 127.0.0.1:9464), got 'localhost:99999'",
    );
    expect(() => parseListen('nope')).toThrow('--http must be [host:]port');
  });
});
