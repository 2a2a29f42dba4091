import { Network, childLogger, createNodeContext, nodes, type LogBindings, type Logger } from 'tributary';
import { VirtualTime } from 'tributary/testing';
import { createCliLogger, prettyLine, REDACT_PATHS, type LogLevel } from '../../lib/cli/logging';

/** A stream that keeps each write; `isTTY` as given. */
function collector(isTTY?: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => void writes.push(text), lines: () => writes.join('').split('\n').filter(Boolean) };
}

const T0 = Date.UTC(2026, 10, 28, 21, 30, 0, 123);

/** A network whose map fails on 2: the discarder reports the error event it nacks (a warning). */
function failingNetwork(logger: Logger): { net: Network; t: VirtualTime } {
  const t = new VirtualTime();
  const net = new Network({ scheduler: t.scheduler, logger });
  net.add('numbers', t.source('-a-b-|', { a: 1, b: 2 }));
  net.add(
    'halve',
    nodes.map({
      fn: (n: number) => {
        if (n === 2) throw new Error('cannot halve 2');
        return n / 2;
      },
    }),
  );
  net.add('void', nodes.discarder());
  net.link('numbers', 'halve');
  net.link('halve', 'void');
  return { net, t };
}

describe('createCliLogger: JSON lines off a terminal', () => {
  it("every line from a node carries its name and kind; level is the level's name, time ISO 8601", () => {
    const out = collector(false);
    const { net, t } = failingNetwork(createCliLogger({ stream: out, now: () => T0 }));
    t.run(net, '10ms');
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        level: 'warn',
        time: '2026-11-28T21:30:00.123Z',
        pid: process.pid,
        hostname: expect.any(String),
        node: 'void',
        kind: 'discarder',
        msg: expect.stringMatching(/^node 'void': error event \S+ from 'halve': cannot halve 2$/),
      },
    ]);
  });

  it('format auto is JSON when the stream is not a terminal (no isTTY), readable when it is', () => {
    const plain = collector(undefined);
    createCliLogger({ stream: plain, now: () => T0 }).warn('x');
    expect(JSON.parse(plain.writes[0])).toMatchObject({ level: 'warn', msg: 'x' });
    const tty = collector(true);
    createCliLogger({ stream: tty, now: () => T0, color: false }).warn('x');
    expect(tty.writes[0]).toMatch(/^\d\d:\d\d:\d\d\.123 WARN {2}x\n$/);
    const forced = collector(true);
    createCliLogger({ stream: forced, format: 'json' }).warn('x');
    expect(JSON.parse(forced.writes[0])).toMatchObject({ msg: 'x' });
  });

  it.each<[LogLevel, string[]]>([
    ['trace', ['trace', 'debug', 'info', 'warn', 'error']],
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ])('level %s writes %j', (level, expected) => {
    const out = collector(false);
    const log = createCliLogger({ level, stream: out });
    log.trace('trace');
    log.debug('debug');
    log.info('info');
    log.warn('warn');
    log.error('error');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(expected);
  });

  it('the default level is warn', () => {
    const out = collector(false);
    const log = createCliLogger({ stream: out });
    log.info('not shown');
    log.warn('shown');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });
});

describe('createCliLogger: secrets', () => {
  it("fields named like secrets are censored by pino's redact paths; url fields keep the URL without its password", () => {
    const out = collector(false);
    const log = createCliLogger({ stream: out, level: 'info' });
    log.info(
      {
        url: 'amqp://app:s3cret@mq:5672/prod',
        password: 'hunter2',
        token: 'tok-123',
        headers: { authorization: 'Bearer abc.def', cookie: 'sid=1' },
        target: { url: 'https://u:pw@example.org/hook', apiKey: 'k-9', secret: 'shh' },
      },
      'connecting',
    );
    const line = JSON.parse(out.writes[0]);
    expect(line).toMatchObject({
      url: 'amqp://app:***@mq:5672/prod',
      password: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
      target: { url: 'https://u:***@example.org/hook', apiKey: '[redacted]', secret: '[redacted]' },
    });
    expect(out.writes[0]).not.toMatch(/s3cret|hunter2|tok-123|abc\.def|sid=1|:pw@|k-9|shh/);
    expect(REDACT_PATHS).toEqual(expect.arrayContaining(['url', '*.url', 'headers.authorization', '*.headers.authorization']));
  });

  it('messages and error stacks lose URL passwords, bearer tokens, token=… values and the given secrets', () => {
    const out = collector(false);
    const log = createCliLogger({ stream: out, secrets: ['p@ss-w0rd'] });
    log.warn("node 'q': cannot reach amqp://app:s3cret@mq/?token=abc&x=1 (Authorization: Bearer eyJhbGciOi)");
    log.error({ err: new Error('login p@ss-w0rd refused at mysql://root:hunter2@db/test') }, 'store failed');
    const text = out.writes.join('');
    expect(text).not.toMatch(/s3cret|token=abc|eyJhbGciOi|p@ss-w0rd|hunter2/);
    expect(JSON.parse(out.writes[0]).msg).toBe(
      "node 'q': cannot reach amqp://app:***@mq/?token=<redacted>&x=1 (Authorization: Bearer <redacted>)",
    );
    expect(JSON.parse(out.writes[1]).err.message).toBe('login <redacted> refused at mysql://root:***@db/test');
  });

  it('readable lines are redacted too', () => {
    const out = collector(true);
    createCliLogger({ stream: out, color: false }).warn('at https://u:pw@h/x');
    expect(out.writes[0]).toContain('at https://u:***@h/x');
  });
});

describe('prettyLine', () => {
  const time = '2026-01-02T03:04:05.006Z';
  const local = (() => {
    const d = new Date(time);
    const two = (n: number) => String(n).padStart(2, '0');
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.006`;
  })();

  it('shows time, level, [node kind], the message and other fields as key=value', () => {
    const line = JSON.stringify({
      level: 'warn',
      time,
      pid: 1,
      hostname: 'h',
      node: 'bets',
      kind: 'file_source',
      msg: 'slow',
      n: 3,
      s: 'x',
    });
    expect(prettyLine(line + '\n', false)).toBe(`${local} WARN  [bets file_source] slow n=3 s=x\n`);
  });

  it('colours the level and the node on a terminal', () => {
    const line = JSON.stringify({ level: 'error', time, node: 'n', msg: 'm' });
    expect(prettyLine(line, true)).toBe(`${local} \x1b[31mERROR\x1b[39m \x1b[1m[n]\x1b[22m m\n`);
  });

  it("puts an error's stack below, indented", () => {
    const line = JSON.stringify({
      level: 'error',
      time,
      msg: 'failed',
      err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' },
    });
    expect(prettyLine(line, false)).toBe(`${local} ERROR failed\n    Error: boom\n        at x\n`);
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLine('plain text\n', false)).toBe('plain text\n');
  });
});

describe('the Logger a network takes', () => {
  it('gives each node logger.child({ node, kind }) when the logger has child', () => {
    const bindings: LogBindings[] = [];
    const lines: string[] = [];
    const make = (b: LogBindings): Logger => ({
      warn: (m) => void lines.push(`${JSON.stringify(b)} ${m}`),
      error: (m) => void lines.push(`${JSON.stringify(b)} ${m}`),
      child: (more) => {
        bindings.push(more);
        return make({ ...b, ...more });
      },
    });
    const { net, t } = failingNetwork(make({}));
    t.run(net, '10ms');
    expect(bindings).toEqual(
      expect.arrayContaining([
        { node: 'numbers', kind: 'marbles' },
        { node: 'halve', kind: 'map' },
        { node: 'void', kind: 'discarder' },
      ]),
    );
    expect(bindings).toHaveLength(3);
    expect(lines).toEqual([expect.stringMatching(/^\{"node":"void","kind":"discarder"\} node 'void': error event/)]);
  });

  it('keeps a plain { warn, error } logger working, messages unchanged', () => {
    const messages: string[] = [];
    const { net, t } = failingNetwork({ warn: (m) => void messages.push(`warn: ${m}`), error: (m) => void messages.push(`error: ${m}`) });
    t.run(net, '10ms');
    expect(messages).toEqual([expect.stringMatching(/^warn: node 'void': error event \S+ from 'halve': cannot halve 2$/)]);
  });

  it('childLogger returns a logger without child as it is; createNodeContext binds node (and kind when given)', () => {
    const plain: Logger = { warn: () => undefined, error: () => undefined };
    expect(childLogger(plain, { node: 'x' })).toBe(plain);
    const seen: LogBindings[] = [];
    const parent: Logger = { ...plain, child: (b) => (seen.push(b), plain) };
    createNodeContext('a', { logger: parent });
    createNodeContext('b', { logger: parent, kind: 'map' });
    expect(seen).toEqual([{ node: 'a' }, { node: 'b', kind: 'map' }]);
  });
});
