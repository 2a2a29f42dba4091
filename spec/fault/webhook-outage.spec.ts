import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Network, nodes } from 'tributary';
import { connectors } from 'tributary/connectors';
import { captureLogger, settlements } from '../connectors/helpers';
import { reportFault, tally } from './counts';

/**
 * Issue 9, fault suite: a webhook receiver fails for a while — 503s, connections reset
 * mid-request, requests left hanging past the sink's timeout — then recovers. Every event
 * must reach the receiver (accepted with a 2xx) and be acked only after that; none may be
 * acked while undelivered, and duplicates are bounded by the requests in flight. A real HTTP
 * server on a spare port; the outage is a window of requests, not of wall-clock time.
 */
describe('a webhook receiver that fails for a while (503, reset connections, hangs), then recovers', () => {
  it('delivers every event, acks each only after its 2xx, duplicates at most the requests in flight', async () => {
    const N = 300;
    const CONCURRENCY = 4;
    const accepted: number[] = [];
    let requests = 0;
    const outage = { from: 60, to: 240 }; // request numbers answered with a failure
    const hanging: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const n = ++requests;
        if (n >= outage.from && n < outage.to) {
          // Three ways a receiver fails: an error status, a reset connection, no answer at all.
          if (n % 3 === 0) return void res.writeHead(503, { 'retry-after': '0' }).end('{"error":"down"}');
          if (n % 3 === 1) return void req.socket.destroy();
          return void hanging.push(res);
        }
        accepted.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { i: number }).i);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

    const settled = settlements();
    const net = new Network({ logger: captureLogger(), drainTimeout: '30s' });
    const items = Array.from({ length: N }, (_, k) => ({ i: k + 1 }));
    net.add('gen', nodes.from({ items, onSettle: settled.onSettle }));
    net.add(
      'hook',
      connectors.webhook({ url, concurrency: CONCURRENCY, timeout: '300ms', retries: 10_000, backoff: '5ms', maxBackoff: '50ms' }),
    );
    net.link('gen', 'hook');
    try {
      await net.start();
      await net.done();
    } finally {
      await net.stop();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const t = tally(
      items.map((x) => x.i),
      accepted,
    );
    reportFault('webhook-outage', {
      sent: N,
      received: t.received,
      lost: t.lost.length,
      duplicates: t.duplicates,
      cap: CONCURRENCY,
      fault: `requests ${outage.from}-${outage.to - 1} of ${requests} answered 503, reset or left hanging`,
    });
    expect(requests).toBeGreaterThan(outage.to); // the outage really happened and ended
    expect(t.lost).toEqual([]);
    expect(t.duplicates).toBeLessThanOrEqual(CONCURRENCY);
    // Every event acked, none nacked: acked only once the receiver had it.
    expect(settled.nacked()).toEqual([]);
    expect(settled.acked()).toHaveLength(N);
  }, 60_000);
});
