import { Network } from 'tributary';
import { luaScenario } from 'tributary/testing';
import { expandEnv } from '../../lib/declarative/env';
import { loadNetworkText } from '../../lib/declarative/load';

describe('environment references', () => {
  it('expands ${NAME}, ${NAME:-default} and the $${ escape', () => {
    const env = { HOST: 'bus', EMPTY: '', TOKEN: 's3cret' };
    expect(expandEnv('nats://app:${TOKEN}@${HOST}:${PORT:-4222}', env)).toEqual({
      text: 'nats://app:s3cret@bus:4222',
      used: [
        { name: 'TOKEN', value: 's3cret' },
        { name: 'HOST', value: 'bus' },
      ],
      whole: false,
    });
    expect(expandEnv('${EMPTY:-fallback}', env).text).toBe('fallback');
    expect(expandEnv('${EMPTY}', env).text).toBe('');
    expect(expandEnv('costs $${PRICE} and ${HOST}', env).text).toBe('costs ${PRICE} and bus');
    expect(expandEnv('${HOST}', env).whole).toBe(true);
    expect(expandEnv('plain text, $HOST, $ {x}', env)).toEqual({ text: 'plain text, $HOST, $ {x}', used: [], whole: false });
  });

  it('a variable not set, or a reference that is no variable name, is an error naming it', () => {
    expect(() => expandEnv('${MISSING}', {})).toThrow("environment variable 'MISSING' is not set");
    expect(() => expandEnv('${NOT-A-NAME}', {})).toThrow("'${NOT-A-NAME}' is not an environment reference");
  });

  it('a whole reference gives number and boolean options their type; a bad one is named', () => {
    const net = new Network();
    const text = 'nodes:\n  - name: b\n    kind: buffer\n    options:\n      size: ${SIZE}\n';
    loadNetworkText(net, text, 'n.yaml', { env: { SIZE: '3' } });
    expect(net.describe('b')?.options).toEqual({ size: '${SIZE}' });
    expect(() => loadNetworkText(new Network(), text, 'n.yaml', { env: { SIZE: 'many' } })).toThrow(
      "n.yaml:5:7: node 'b': option 'size': environment variable 'SIZE' must be a number for this option",
    );
    expect(() => loadNetworkText(new Network(), text, 'n.yaml', { env: { SIZE: '2.5' } })).toThrow(
      "n.yaml:5:7: node 'b': node kind 'buffer': option 'size' must be an integer, got number 2.5",
    );
  });

  it('runs with the values', () => {
    const s = luaScenario({
      name: 'network.yaml',
      env: { MARK: 'tick', SECRET_URL: 'http://user:pa55word@example.test/hook' },
      source:
        'nodes:\n' +
        '  - { name: n, kind: ticker, options: { interval: 1s } }\n' +
        '  - { name: p, kind: tester, options: { indicator: "${MARK}:" } }\n' +
        '  - { name: m, kind: map, options: { fn: "function(x) return x end" } }\n' +
        'edges:\n  - { from: n, to: m }\n  - { from: m, to: p }\n',
      inputs: { n: 'a-b|' },
    });
    s.run('10ms');
    expect(s.output.text).toBe('tick:tick:');
  });

  it('describe() (the live page) shows the references, not the values', () => {
    const net = new Network();
    loadNetworkText(
      net,
      'nodes:\n  - { name: p, kind: tester, options: { indicator: "${MARK}:" } }\n  - { name: d, kind: dedupe, options: { duration: "${TTL:-10s}" } }\n',
      'n.yaml',
      { env: { MARK: 'hunter2-secret' } },
    );
    expect(net.describe('p')?.options).toEqual({ indicator: '${MARK}:' });
    expect(net.describe('d')?.options).toEqual({ duration: '${TTL:-10s}' });
    expect(JSON.stringify(net.toJSON())).not.toContain('hunter2');
  });

  it('error messages show the reference, never the value', () => {
    const env = { TB_SECRET: 'correct-horse-battery' };
    const messages: string[] = [];
    for (const text of [
      'nodes:\n  - { name: t, kind: ticker, options: { interval: "${TB_SECRET}" } }\n',
      'nodes:\n  - { name: p, kind: tester, options: { indicator: "${TB_SECRET}", output: "${TB_SECRET}" } }\n',
      'nodes:\n  - { name: d, kind: dedupe, options: { duration: "1s", key: "x${TB_SECRET}" } }\n',
    ]) {
      try {
        loadNetworkText(new Network(), text, 'n.yaml', { env });
        messages.push('built');
      } catch (e) {
        messages.push((e as Error).message);
        // Nor in the error it was made from, which a logger may print.
        expect(JSON.stringify((e as Error).cause ?? null)).not.toContain('correct-horse-battery');
        expect(String((e as { cause?: Error }).cause?.message ?? '')).not.toContain('correct-horse-battery');
      }
    }
    expect(messages[0]).toBe(
      `n.yaml:2:41: node 't': node kind 'ticker': option 'interval': bad duration "\${TB_SECRET}" (expected Go syntax such as "500ms", "2s", "1m30s", "1h", or a non-negative number of milliseconds)`,
    );
    for (const m of messages) {
      expect(m).toMatch(/^n\.yaml:2:\d+: /);
      expect(m).not.toContain('correct-horse-battery');
    }
  });

  it('the values used are returned, to be hidden from logs (not short ones, numbers or booleans, which would garble them)', () => {
    const net = new Network();
    const text = 'nodes:\n  - { name: p, kind: tester, options: { indicator: "${A}${B}${C}${D}${E}" } }\n';
    const { secrets } = loadNetworkText(net, text, 'n.yaml', {
      env: { A: 'long-enough', B: '1', C: 'long-enough', D: '4222', E: 'true' },
    });
    expect(secrets).toEqual(['long-enough']);
  });
});
