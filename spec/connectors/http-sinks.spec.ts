import { inspect } from 'node:util';
import { Network, createRegistry, errorMessage, nodes } from 'tributary';
import { connectors, HttpDeliveryError, httpPlugin } from 'tributary/connectors';
import { captureLogger, recordingScheduler, settlements, startReceiver, trackingScheduler, waitFor } from './helpers';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Runs items through one sink node to completion; returns the settlements and logs. */
async function runThrough(sink: ReturnType<typeof connectors.webhook>, items: unknown[], opts: { scheduler?: any } = {}) {
  const logger = captureLogger();
  const settled = settlements();
  const net = new Network({ logger, ...(opts.scheduler ? { scheduler: opts.scheduler } : {}) });
  net.add('in', nodes.from({ items, onSettle: settled.onSettle }));
  net.add('out', sink);
  net.link('in', 'out');
  await net.start();
  const report = await net.done();
  return { settled, logger, report };
}

describe('webhook sink against a real local HTTP server', () => {
  let rx: Receiver;
  afterEach(async () => rx?.close());

  it('POSTs each payload as JSON with the headers, in order, and acks after the 2xx', async () => {
    rx = await startReceiver();
    const { settled, report } = await runThrough(connectors.webhook({ url: `${rx.url}/hook?k=1`, headers: { 'X-Team': 'risk' } }), [
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
    expect(rx.requests.map((r) => JSON.parse(r.body))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(rx.requests.map((r) => r.url)).toEqual(['/hook?k=1', '/hook?k=1', '/hook?k=1']);
    expect(rx.requests[0]).toMatchObject({ method: 'POST', url: '/hook?k=1' });
    expect(rx.requests[0].headers['content-type']).toBe('application/json');
    expect(rx.requests[0].headers['x-team']).toBe('risk');
    expect(settled.acked()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(report.stats.out).toMatchObject({ in: 3, acked: 3, nacked: 0 });
  });

  it('no events: sends nothing and completes', async () => {
    rx = await startReceiver();
    const { report } = await runThrough(connectors.webhook({ url: rx.url }), []);
    expect(rx.requests).toHaveLength(0);
    expect(report.stats.out.in).toBe(0);
  });

  it('renders the body with the template function; a string result is sent as is', async () => {
    rx = await startReceiver();
    await runThrough(
      connectors.webhook({ url: rx.url, method: 'PUT', body: (p: { c: string }, e) => `customer=${p.c} id=${e.meta.id.length > 0}` }),
      [{ c: 'c1' }],
    );
    expect(rx.requests[0].method).toBe('PUT');
    expect(rx.requests[0].body).toBe('customer=c1 id=true');
  });

  it('a 301 is a permanent failure naming the Location: never followed as a body-less GET and acked', async () => {
    rx = await startReceiver((_n, req) => (req.url === '/moved' ? { status: 301, headers: { location: '/new-home' } } : { status: 200 }));
    const { settled, report } = await runThrough(connectors.webhook({ url: `${rx.url}/moved`, retries: 3 }), [{ n: 1 }]);
    expect(settled.acked()).toEqual([]);
    expect(errorMessage(settled.nacked()[0].reason)).toContain('HTTP 301 redirect to /new-home');
    expect(rx.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /moved']);
    expect(report.stats.out).toMatchObject({ acked: 0, nacked: 1 });
  });

  it('retries 5xx with exponential back-off from the network scheduler, then acks', async () => {
    rx = await startReceiver((n) => (n <= 3 ? { status: n === 2 ? 429 : 503 } : { status: 204 }));
    const scheduler = recordingScheduler();
    const { settled, logger } = await runThrough(
      connectors.webhook({ url: rx.url, retries: 5, backoff: '500ms', maxBackoff: '1500ms', timeout: '1h' }),
      ['x'],
      { scheduler },
    );
    expect(rx.requests).toHaveLength(4);
    expect(settled.acked()).toEqual(['x']);
    // Back-off delays 500, 1000, then capped at 1500 — all asked of the network's scheduler.
    expect(scheduler.delays.filter((d) => d !== 3_600_000)).toEqual([500, 1000, 1500]);
    expect(logger.messages.filter((m) => m.includes('retry'))).toHaveLength(3);
  });

  it('gives up on a 4xx at once and nacks the event with the status and body', async () => {
    rx = await startReceiver(() => ({ status: 422, body: '{"error":"bad alert"}' }));
    const { settled, logger } = await runThrough(connectors.webhook({ url: `${rx.url}/h`, retries: 5, backoff: 1 }), ['x']);
    expect(rx.requests).toHaveLength(1);
    const [n] = settled.nacked();
    expect(n.reason).toBeInstanceOf(HttpDeliveryError);
    expect((n.reason as HttpDeliveryError).status).toBe(422);
    expect(errorMessage(n.reason)).toContain(`POST ${rx.url}/h: HTTP 422: {"error":"bad alert"}`);
    expect(logger.messages.some((m) => m.includes("node 'out'") && m.includes('HTTP 422'))).toBe(true);
  });

  it('nacks with the reason when retries run out', async () => {
    rx = await startReceiver(() => ({ status: 500 }));
    const { settled, report } = await runThrough(connectors.webhook({ url: rx.url, retries: 2, backoff: 1 }), ['a', 'b']);
    expect(rx.requests).toHaveLength(6);
    expect(settled.nacked().map((x) => x.payload)).toEqual(['a', 'b']);
    expect(errorMessage(settled.nacked()[0].reason)).toContain('gave up after 3 attempts');
    expect(report.stats.out).toMatchObject({ nacked: 2, acked: 0, errors: 2 });
  });

  it('hands a failed event to deadLetter and acks it once that resolved', async () => {
    rx = await startReceiver(() => ({ status: 503 }));
    const letters: { payload: unknown; status?: number; attempts: number }[] = [];
    const { settled } = await runThrough(
      connectors.webhook({
        url: rx.url,
        retries: 1,
        backoff: 1,
        deadLetter: async ({ event, error }) => {
          letters.push({ payload: event.payload, status: error.status, attempts: error.attempts });
        },
      }),
      ['a'],
    );
    expect(letters).toEqual([{ payload: 'a', status: 503, attempts: 2 }]);
    expect(settled.acked()).toEqual(['a']);
  });

  it('nacks when the dead-letter function itself fails', async () => {
    rx = await startReceiver(() => ({ status: 400 }));
    const { settled } = await runThrough(
      connectors.webhook({
        url: rx.url,
        retries: 0,
        deadLetter: () => {
          throw new Error('dlq down');
        },
      }),
      ['a'],
    );
    expect(errorMessage(settled.nacked()[0].reason)).toBe('dlq down');
  });

  it('times out a request that gets no answer, retries, then nacks', async () => {
    rx = await startReceiver(() => 'hang');
    const { settled } = await runThrough(connectors.webhook({ url: rx.url, timeout: '100ms', retries: 1, backoff: 1 }), ['slow']);
    expect(rx.requests).toHaveLength(2);
    expect(errorMessage(settled.nacked()[0].reason)).toContain('no answer within 100ms');
  });

  it('a cut-off stop ends the retries: no back-off left waiting, no request after the stop', async () => {
    rx = await startReceiver(() => ({ status: 500 }));
    const scheduler = trackingScheduler();
    const settled = settlements();
    const net = new Network({ logger: captureLogger(), scheduler });
    net.add('in', nodes.from({ items: ['x'], onSettle: settled.onSettle }));
    net.add('out', connectors.webhook({ url: rx.url, retries: 4, backoff: '1h', maxBackoff: '1h', timeout: '1h' }));
    net.link('in', 'out');
    await net.start();
    await waitFor(
      () => scheduler.delays.includes(3_600_000 * 1) && rx.requests.length === 1 && scheduler.pending().length === 1,
      'the first retry to wait',
    );
    const report = await net.stop({ timeout: 50 });
    expect(report.timedOut).toBe(true);
    expect(settled.acked()).toEqual([]);
    expect(settled.nacked().map((n) => n.payload)).toEqual(['x']);
    await waitFor(() => scheduler.pending().length === 0, 'the back-off wait to be cancelled', 2000);
    expect(rx.requests).toHaveLength(1);
  });

  it('a cut-off stop aborts the request in flight (its timeout timer goes too)', async () => {
    let aborted = false;
    rx = await startReceiver(() => 'hang');
    const scheduler = trackingScheduler();
    const net = new Network({ logger: captureLogger(), scheduler });
    net.add('in', nodes.from({ items: ['x'] }));
    net.add('out', connectors.webhook({ url: rx.url, retries: 4, timeout: '1h' }));
    net.link('in', 'out');
    await net.start();
    await waitFor(() => rx.requests.length === 1, 'the request');
    await net.stop({ timeout: 50 });
    await waitFor(() => scheduler.pending().length === 0, 'the request timeout timer to go', 2000).then(
      () => (aborted = true),
      () => undefined,
    );
    expect(aborted).toBe(true);
    expect(rx.requests).toHaveLength(1);
  });

  it('sends user:password from the URL as an Authorization: Basic header and never shows the password', async () => {
    rx = await startReceiver((n) => (n === 1 ? { status: 200 } : { status: 500, body: 'nope' }));
    const url = `http://alerts:s3%40cret@127.0.0.1:${rx.port}/hook`;
    const { settled, logger } = await runThrough(connectors.webhook({ url, retries: 0 }), [{ n: 1 }, { n: 2 }]);
    const basic = Buffer.from('alerts:s3@cret').toString('base64');
    expect(rx.requests.map((r) => r.headers.authorization)).toEqual([`Basic ${basic}`, `Basic ${basic}`]);
    expect(settled.acked()).toEqual([{ n: 1 }]);
    const shown = [errorMessage(settled.nacked()[0].reason), ...logger.messages].join('\n');
    expect(shown).toContain(`POST http://127.0.0.1:${rx.port}/hook: HTTP 500`);
    for (const secret of ['s3@cret', 's3%40cret', basic]) expect(shown).not.toContain(secret);
    expect(() => connectors.webhook({ url, headers: { Authorization: 'Bearer x' } })).toThrow("option 'url' holds credentials");
  });

  it('names the address when the connection is refused', async () => {
    rx = await startReceiver();
    const url = `${rx.url}/gone`;
    await rx.close();
    const { settled } = await runThrough(connectors.webhook({ url, retries: 1, backoff: 1 }), ['x']);
    const msg = errorMessage(settled.nacked()[0].reason);
    expect(msg).toContain(`POST ${url}: request failed`);
    expect(msg).toMatch(/ECONNREFUSED/);
  });

  it('nacks error events that reach it without calling the endpoint', async () => {
    rx = await startReceiver();
    const logger = captureLogger();
    const settled = settlements();
    const net = new Network({ logger });
    net.add('in', nodes.from({ items: [1, 2], onSettle: settled.onSettle }));
    net.add(
      'check',
      nodes.map({
        fn: (n: number) => {
          if (n === 2) throw new Error('bad two');
          return n;
        },
      }),
    );
    net.add('out', connectors.webhook({ url: rx.url }));
    net.link('in', 'check').link('check', 'out');
    await net.start();
    await net.done();
    expect(rx.requests.map((r) => r.body)).toEqual(['1']);
    expect(settled.acked()).toEqual([1]);
    expect(settled.nacked().map((x) => x.payload)).toEqual([2]);
  });

  it('rejects bad options with errors naming the option', () => {
    expect(() => connectors.webhook({} as never)).toThrow("node kind 'webhook': option 'url' is required");
    expect(() => connectors.webhook({ url: 'ftp://x' })).toThrow("option 'url' must be an http(s) URL");
    expect(() => connectors.webhook({ url: 'http://x', retries: -1 })).toThrow("option 'retries' must be at least 0");
    expect(() => connectors.webhook({ url: 'http://x', timeout: 'soon' })).toThrow('bad duration "soon"');
    expect(() => connectors.webhook({ url: 'http://x', headers: { a: 1 as never } })).toThrow("header 'a' must be a string");
  });

  it('is in the registry, so Lua and net.create can build it positionally', async () => {
    rx = await startReceiver();
    const kind = createRegistry({ plugins: [httpPlugin] }).get('webhook');
    expect(kind.positional).toEqual(['url']);
    const net = new Network({ plugins: [httpPlugin] });
    net.add('in', nodes.from({ items: ['hi'] }));
    net.create('webhook', 'out', { url: rx.url });
    net.link('in', 'out');
    await net.start();
    await net.done();
    expect(rx.requests.map((r) => r.body)).toEqual(['"hi"']);
  });
});

describe('slack preset', () => {
  let rx: Receiver;
  afterEach(async () => rx?.close());

  it('posts {"text": …} built by the text function', async () => {
    rx = await startReceiver();
    await runThrough(connectors.slack({ url: `${rx.url}/services/T0/B0/secret`, text: (a: { c: string }) => `alert ${a.c}` }) as never, [
      { c: 'c9' },
      'plain',
    ]);
    expect(rx.requests.map((r) => JSON.parse(r.body))).toEqual([{ text: 'alert c9' }, { text: 'alert undefined' }]);
    expect(rx.requests[0].url).toBe('/services/T0/B0/secret');
  });

  it('takes the URL from SLACK_WEBHOOK_URL and hides its path in errors', async () => {
    rx = await startReceiver(() => ({ status: 404, body: 'no_service' }));
    process.env.TB_TEST_SLACK_URL = `${rx.url}/services/T0/B0/s3cr3t`;
    try {
      const { settled, logger } = await runThrough(connectors.slack({ urlEnv: 'TB_TEST_SLACK_URL' }) as never, [{ a: 1 }]);
      expect(JSON.parse(rx.requests[0].body)).toEqual({ text: '{"a":1}' });
      const text = logger.messages.join('\n') + inspect(settled.nacked()[0].reason);
      expect(text).toContain('HTTP 404');
      expect(text).not.toContain('s3cr3t');
    } finally {
      delete process.env.TB_TEST_SLACK_URL;
    }
    expect(() => connectors.slack({ urlEnv: 'TB_TEST_SLACK_URL' })).toThrow('set the environment variable TB_TEST_SLACK_URL');
  });
});

describe('telegram preset', () => {
  const TOKEN = '987654:AAH-very-secret_token';
  let rx: Receiver;
  afterEach(async () => rx?.close());

  it('calls sendMessage under /bot<token>/ with chat id and text from the environment', async () => {
    rx = await startReceiver();
    process.env.TB_TEST_TG_TOKEN = TOKEN;
    process.env.TB_TEST_TG_CHAT = '-100200';
    try {
      const sink = connectors.telegram({
        tokenEnv: 'TB_TEST_TG_TOKEN',
        chatIdEnv: 'TB_TEST_TG_CHAT',
        baseUrl: rx.url,
        text: (a: any) => `liability ${a.l}`,
        parseMode: 'HTML',
      });
      const { settled } = await runThrough(sink as never, [{ l: 140 }]);
      expect(settled.acked()).toEqual([{ l: 140 }]);
    } finally {
      delete process.env.TB_TEST_TG_TOKEN;
      delete process.env.TB_TEST_TG_CHAT;
    }
    expect(rx.requests[0].url).toBe(`/bot${TOKEN}/sendMessage`);
    expect(JSON.parse(rx.requests[0].body)).toEqual({ chat_id: '-100200', text: 'liability 140', parse_mode: 'HTML' });
  });

  it('never shows the token in logs, nack reasons or error events, whatever fails', async () => {
    // 429 with Retry-After, then 500, then a 400 echoing the URL (as a careless proxy might).
    rx = await startReceiver((n, req) =>
      n === 1
        ? { status: 429, headers: { 'retry-after': '1' } }
        : n === 2
          ? { status: 500 }
          : { status: 400, body: `{"ok":false,"description":"bad request to ${req.url}"}` },
    );
    const logger = captureLogger();
    const settled = settlements();
    const deadLetters: string[] = [];
    const net = new Network({ logger, scheduler: recordingScheduler() });
    net.add('in', nodes.from({ items: [{ l: 1 }, { l: 2 }], onSettle: settled.onSettle }));
    net.add(
      'check',
      nodes.map({
        fn: (a: { l: number }) => {
          if (a.l === 2) throw new Error('no liability');
          return a;
        },
      }),
    );
    net.add('tg', connectors.telegram({ token: TOKEN, chatId: 42, baseUrl: rx.url, retries: 3, timeout: '1h' }));
    net.add(
      'dead',
      nodes.sink({
        fn: (p) => {
          deadLetters.push(inspect(p, { depth: 5 }));
        },
      }),
    );
    net.link('in', 'check').link('check', 'tg');
    net.routeErrors('check', 'dead');
    await net.start();
    await net.done();

    // And a connection that is refused.
    const closedUrl = rx.url;
    await rx.close();
    const refused = await runThrough(connectors.telegram({ token: TOKEN, chatId: 42, baseUrl: closedUrl, retries: 0 }) as never, ['x']);

    const reasons = [...settled.nacked(), ...refused.settled.nacked()].map(
      (n) => inspect(n.reason, { depth: 5 }) + JSON.stringify(n.reason) + errorMessage(n.reason),
    );
    const everything = [...logger.messages, ...refused.logger.messages, ...reasons, ...deadLetters].join('\n');
    expect(everything).toContain('HTTP 400');
    expect(everything).toContain('ECONNREFUSED');
    expect(everything).toContain('/bot<redacted>/sendMessage');
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain('very-secret');
    // Nor in a validation error.
    let thrown = '';
    try {
      connectors.telegram({ token: TOKEN, baseUrl: 'nope' });
    } catch (e) {
      thrown = String(e);
    }
    expect(thrown).toContain("option 'chatId'");
    expect(thrown).not.toContain(TOKEN);
  });

  it('requires a token and chat id, naming the environment variables', () => {
    expect(() => connectors.telegram({ tokenEnv: 'TB_NO_SUCH_VAR' })).toThrow('set the environment variable TB_NO_SUCH_VAR');
    expect(() => connectors.telegram({ token: 't', chatIdEnv: 'TB_NO_CHAT' })).toThrow('TB_NO_CHAT');
    expect(() => connectors.telegram({ token: 't', chatId: 1, baseUrl: 'x' })).toThrow("option 'baseUrl' must be an http(s) URL");
  });
});
